/**
 * How promote, deploy and approve report a promotion: per environment what happened, the
 * smoke tests, why it failed or was refused; and the exit code its status means (DESIGN §4:
 * a pause at a manual gate is done, 0; a rollback is 1; a refusal is 3).
 */
import { EXIT } from '../errors.js';
import type { AppContext, PromotionOutcome } from '../promotion/index.js';
import { summariseVersions } from './function-summary.js';
import type { Output } from './output.js';

type Environment = PromotionOutcome['environments'][number];

export function reportPromotion(out: Output, outcome: PromotionOutcome, extra: Record<string, unknown> = {}): number {
  const code = exitCodeOf(outcome);
  out.result({ ...outcome, ...extra, ok: code === EXIT.ok }, render);
  if (outcome.status === 'awaiting-approval') {
    const env =
      outcome.environments.find((candidate) => candidate.step === 'awaiting-approval')?.name ?? outcome.target;
    process.stderr.write(
      `paused: ${outcome.release} awaits a manual approval in ${env} (awaiting-approval); run \`stagecraft approve ${env}\` to continue\n`,
    );
  }
  return code;
}

export function exitCodeOf(outcome: PromotionOutcome): number {
  switch (outcome.status) {
    case 'succeeded':
    case 'awaiting-approval':
      return EXIT.ok;
    case 'refused':
      return EXIT.refused;
    default:
      return EXIT.failed;
  }
}

function render(outcome: PromotionOutcome): string {
  const lines = [
    `${outcome.promotion}: ${outcome.kind} ${outcome.release}${outcome.commit ? ` (${outcome.commit.slice(0, 12)})` : ''} → ${outcome.target}: ${outcome.status}`,
  ];
  for (const env of outcome.environments) {
    lines.push(`  ${env.name.padEnd(12)} ${env.step.padEnd(18)} ${whereLiveIs(env)}`);
    for (const test of env.tests ?? [])
      lines.push(
        `    ${test.ok ? 'pass' : 'FAIL'} ${test.name} (${test.durationMs} ms)${test.failure ? `: ${test.failure[0] ?? ''}` : ''}`,
      );
    if (env.approval) lines.push(`    approved by ${env.approval.by} at ${env.approval.at}`);
    if (env.soakSkipped) lines.push(`    soak skipped by ${env.soakSkipped.by}: ${env.soakSkipped.reason}`);
    if (env.shift) {
      lines.push(`    ${env.shift.policy}`);
      for (const step of env.shift.steps) {
        const seen = step.newVersion;
        const rate = seen && seen.invocations > 0 ? Math.round((seen.errors / seen.invocations) * 1000) / 10 : 0;
        lines.push(
          `      ${`${Math.round(step.weight * 1000) / 10}%`.padEnd(6)} new: ${seen?.invocations ?? 0} invocations, ${rate}% errors${seen?.p99Ms != null ? `, p99 ≤ ${seen.p99Ms} ms` : ''}; old: ${step.oldVersion?.invocations ?? 0} invocations`,
        );
      }
    }
  }
  if (outcome.failure) {
    lines.push(`failed in ${outcome.failure.environment} at ${outcome.failure.step}: ${outcome.failure.reason}`);
    for (const detail of outcome.failure.details ?? []) lines.push(`  ${detail}`);
    const breach = outcome.failure.breach;
    if (breach) {
      lines.push(
        `  alarm ${breach.alarm}: ${breach.metric} = ${breach.value}${breach.threshold === null ? '' : ` (threshold ${breach.threshold})`} from ${breach.from} to ${breach.to}`,
      );
      if (breach.reason) lines.push(`  reason: ${breach.reason}`);
    }
    const restored = outcome.environments.filter((env) => env.step === 'restored').map((env) => env.name);
    if (restored.length > 0) lines.push(`rolled back: ${restored.join(', ')}`);
  }
  if (outcome.refusal) lines.push(`refused: ${outcome.refusal.reason}`);
  if (outcome.note) lines.push(outcome.note);
  return lines.join('\n');
}

/** What `live` points at in this environment after the command: the summary must never name a version live left. */
function whereLiveIs(env: Environment): string {
  const list = (pick: (fn: Environment['functions'][number]) => number | null): string =>
    summariseVersions(env.functions.map((fn) => ({ function: fn.function, version: pick(fn) })));
  switch (env.step) {
    case 'live':
      return `live on ${list((fn) => fn.version)}`;
    case 'passed':
      return 'live on this release already';
    case 'restored':
      return `live back on ${list((fn) => fn.previousLive)}`;
    case 'pending':
      return 'untouched';
    default:
      return `live still on ${list((fn) => fn.previousLive)}; smoke on ${list((fn) => fn.version)}`;
  }
}

/**
 * Runs a promotion that Ctrl-C (SIGINT) interrupts: the first one makes the promotion roll back
 * (a shift in progress at once, other steps at their end); a second one exits as usual.
 */
export async function interruptible<T>(app: AppContext, work: () => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('interrupted: rolling back (Ctrl-C again to exit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  app.interrupt = controller.signal;
  try {
    return await work();
  } finally {
    process.off('SIGINT', onSignal);
  }
}
