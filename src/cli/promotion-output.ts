/**
 * How promote, deploy and approve report a promotion: per environment what happened, the
 * smoke tests, why it failed or was refused; and the exit code its status means (DESIGN §4:
 * a pause at a manual gate is done, 0; a rollback is 1; a refusal is 3).
 */
import { EXIT } from '../errors.js';
import type { PromotionOutcome } from '../promotion/index.js';
import type { Output } from './output.js';

export function reportPromotion(out: Output, outcome: PromotionOutcome, extra: Record<string, unknown> = {}): number {
  const code = exitCodeOf(outcome);
  out.result({ ...outcome, ...extra, ok: code === EXIT.ok }, render);
  if (outcome.status === 'awaiting-approval') {
    const env = outcome.environments.find((candidate) => candidate.step === 'awaiting-approval')?.name ?? outcome.target;
    process.stderr.write(`paused: ${outcome.release} awaits a manual approval in ${env} (awaiting-approval); run \`stagecraft approve ${env}\` to continue\n`);
  }
  return code;
}

export function exitCodeOf(outcome: PromotionOutcome): number {
  switch (outcome.status) {
    case 'succeeded': case 'awaiting-approval': return EXIT.ok;
    case 'refused': return EXIT.refused;
    default: return EXIT.failed;
  }
}

function render(outcome: PromotionOutcome): string {
  const lines = [`${outcome.promotion}: ${outcome.kind} ${outcome.release}${outcome.commit ? ` (${outcome.commit.slice(0, 12)})` : ''} → ${outcome.target}: ${outcome.status}`];
  for (const env of outcome.environments) {
    const versions = Object.entries(env.published ?? {}).map(([fn, version]) => `${fn} v${version}`).join(', ');
    lines.push(`  ${env.name.padEnd(12)} ${env.step.padEnd(18)} ${versions}`);
    for (const test of env.tests ?? []) lines.push(`    ${test.ok ? 'pass' : 'FAIL'} ${test.name} (${test.durationMs} ms)${test.failure ? `: ${test.failure[0] ?? ''}` : ''}`);
    if (env.approval) lines.push(`    approved by ${env.approval.by} at ${env.approval.at}`);
    if (env.soakSkipped) lines.push(`    soak skipped by ${env.soakSkipped.by}: ${env.soakSkipped.reason}`);
  }
  if (outcome.failure) {
    lines.push(`failed in ${outcome.failure.environment} at ${outcome.failure.step}: ${outcome.failure.reason}`);
    for (const detail of outcome.failure.details ?? []) lines.push(`  ${detail}`);
    const restored = outcome.environments.filter((env) => env.step === 'restored').map((env) => env.name);
    if (restored.length > 0) lines.push(`rolled back: ${restored.join(', ')}`);
  }
  if (outcome.refusal) lines.push(`refused: ${outcome.refusal.reason}`);
  if (outcome.note) lines.push(outcome.note);
  return lines.join('\n');
}
