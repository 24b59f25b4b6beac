/**
 * The traffic gate: `live` moves to the new versions at once, or by canary / linear steps while
 * the environment's alarms watch the new versions' traffic; preTraffic and postTraffic hooks
 * around it. Each weight is journalled before it is applied, so a crashed shift resumes at its
 * step (`promote --resume`); a breach, a failed hook or an interrupt (Ctrl-C) fails the step and
 * the promotion rolls back. During a split `live` stays on the old version with the new one as
 * Lambda's additional version weight (https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { aliasName, formatDuration, instanceName, type DeploymentPolicy } from '../manifest/index.js';
import type { ArmedAlarm } from '../providers/index.js';
import { describeAlarm, firstBreach, trafficOf, type ShiftTarget } from './alarms.js';
import { runHook } from './hooks.js';
import type { EnvironmentProgress, ShiftState, TrafficSeen } from './journal.js';
import { gateOf, moveAll, StepFailed, type RunScope } from './run-scope.js';

const TICK_MS = 500;
const REPORT_EVERY_MS = 5_000;

/** The weights of the new version before the final move, and how long each is held. */
export function scheduleOf(policy: DeploymentPolicy): { weights: number[]; holdMs: number } {
  if (policy.type === 'allAtOnce') return { weights: [], holdMs: 0 };
  if (policy.type === 'canary') return { weights: [policy.percent / 100], holdMs: policy.waitMs };
  const weights: number[] = [];
  for (let percent = policy.percent; percent < 100 - 1e-9; percent += policy.percent)
    weights.push(Math.round(percent * 100) / 10_000);
  return { weights, holdMs: policy.intervalMs };
}

export function policyText(policy: DeploymentPolicy): string {
  if (policy.type === 'allAtOnce') return 'allAtOnce';
  if (policy.type === 'canary') return `canary ${policy.percent}% ${formatDuration(policy.waitMs)}`;
  return `linear ${policy.percent}% every ${formatDuration(policy.intervalMs)}`;
}

/** Functions whose `live` changes version in `env`: those with a previous live on another version. */
function targetsOf(scope: RunScope, progress: EnvironmentProgress): ShiftTarget[] {
  const { manifest } = scope;
  const env = progress.name;
  return scope.release.functions.flatMap((fn) => {
    const from = progress.backup?.[fn.function]?.live ?? null;
    const to = progress.published?.[fn.function];
    if (from === null || to === undefined || from === to) return [];
    return [
      {
        function: fn.function,
        instance: instanceName(manifest, fn.function, env),
        alias: aliasName(manifest, env, 'live'),
        from,
        to,
      },
    ];
  });
}

/** Moves `live` as the environment's policy says; throws StepFailed on a breach, a failed hook or an interrupt. */
export async function shiftTraffic(scope: RunScope, progress: EnvironmentProgress): Promise<void> {
  const { ctx, journal } = scope;
  const env = progress.name;
  const def = gateOf(scope, env);
  // A release recorded before hooks existed has none in its stored manifest.
  const hooks = def.hooks ?? {};
  const targets = targetsOf(scope, progress);
  const published = progress.published ?? {};
  const begins = progress.step === 'ready';
  if (begins) {
    if (hooks.preTraffic) await hookOrFail(scope, env, 'preTraffic', hooks.preTraffic, targets, published);
    const { weights, holdMs } = scheduleOf(def.deployment);
    if (weights.length === 0 || targets.length === 0) {
      await scope.ensureHeld();
      await moveAll(scope, env, 'live', published);
      if (hooks.postTraffic) await hookOrFail(scope, env, 'postTraffic', hooks.postTraffic, targets, published);
      return;
    }
    progress.shift = { policy: policyText(def.deployment), weights, holdMs, index: 0, steps: [] };
    journal.step(progress, 'shifting');
  }
  const shift = progress.shift;
  if (!shift) throw new StepFailed('shifting', `${env}: the journal of this shift is missing`);
  const shiftStartMs = Date.parse(shift.steps[0]?.startedAt ?? ctx.store.now().toISOString());
  const armed = await armAlarms(scope, env, targets, begins);
  for (; shift.index < shift.weights.length; shift.index++) {
    await holdStep(scope, progress, shift, targets, shiftStartMs, armed);
  }
  await scope.ensureHeld();
  // The final move clears the split: `live` on the new version alone.
  await moveAll(scope, env, 'live', published);
  if (hooks.postTraffic) await hookOrFail(scope, env, 'postTraffic', hooks.postTraffic, targets, published);
}

async function hookOrFail(
  scope: RunScope,
  env: string,
  hook: 'preTraffic' | 'postTraffic',
  spec: string,
  targets: ShiftTarget[],
  published: Record<string, number>,
): Promise<void> {
  const failure = await runHook(scope, env, hook, spec, targets, published);
  if (failure) throw new StepFailed(hook === 'preTraffic' ? 'ready' : 'shifting', `${env}: ${failure}`);
}

function alarmsOf(scope: RunScope, env: string) {
  const declared = gateOf(scope, env).alarms;
  return Array.isArray(declared) ? declared : [];
}

/** Points the platform's alarms at the new versions (aws: CloudWatch); undefined where the shift judges them itself. */
async function armAlarms(
  scope: RunScope,
  env: string,
  targets: ShiftTarget[],
  begins: boolean,
): Promise<ArmedAlarm[] | undefined> {
  const { provider } = scope.ctx;
  if (!provider.armShiftAlarms) return undefined;
  await scope.ensureHeld();
  return provider.armShiftAlarms(
    {
      environment: env,
      alarms: alarmsOf(scope, env),
      targets: targets.map(({ function: fn, instance, alias, to }) => ({ function: fn, instance, alias, version: to })),
      begins,
    },
    scope.journal.meta(env, ''),
  );
}

/** Applies the step's weight (journalled first), then watches until the hold time is over. */
async function holdStep(
  scope: RunScope,
  progress: EnvironmentProgress,
  shift: ShiftState,
  targets: ShiftTarget[],
  shiftStartMs: number,
  armed: ArmedAlarm[] | undefined,
): Promise<void> {
  const { ctx, journal } = scope;
  const env = progress.name;
  const weight = shift.weights[shift.index] ?? 1;
  const startedMs = ctx.store.now().getTime();
  const report = { weight, startedAt: new Date(startedMs).toISOString() };
  // A resumed step starts its hold again: the report of the interrupted attempt is replaced.
  if (shift.steps.length > shift.index) shift.steps[shift.index] = report;
  else shift.steps.push(report);
  journal.step(progress, 'shifting');
  await scope.ensureHeld();
  for (const target of targets) {
    const current = await ctx.provider.getAlias(target.instance, target.alias);
    if (current?.version === target.from && current.extra?.version === target.to && current.extra.weight === weight)
      continue;
    await ctx.provider.updateAlias(
      {
        instance: target.instance,
        name: target.alias,
        version: target.from,
        extra: { version: target.to, weight },
        expectedRevision: current?.revision,
      },
      journal.meta(env, target.function, { role: 'live', shift: shift.policy, step: shift.index + 1, weight }),
    );
  }
  const alarms = alarmsOf(scope, env);
  const label = `${env}: ${shift.policy}, step ${shift.index + 1}/${shift.weights.length}: ${pct(weight)} on the new version`;
  const through = armed && armed.length > 0 ? ` (alarms ${armed.map((alarm) => alarm.name).join(', ')})` : '';
  ctx.report.progress(
    `${label}${alarms.length > 0 ? `; watching ${alarms.map(describeAlarm).join(', ')}${through}` : ''}`,
  );
  let lastReport = startedMs;
  for (;;) {
    const nowMs = ctx.store.now().getTime();
    if (ctx.interrupt?.aborted)
      throw new StepFailed('shifting', `${env}: interrupted during the shift (${shift.policy}, ${pct(weight)})`);
    const breach = await firstBreach(alarms, {
      provider: ctx.provider,
      targets,
      shiftStartMs,
      nowMs,
      armed,
      cwd: ctx.loaded.appDir,
      env: { STAGECRAFT_ENV: env, STAGECRAFT_RELEASE: scope.release.id, STAGECRAFT_WEIGHT: String(weight) },
    });
    const remaining = startedMs + shift.holdMs - nowMs;
    if (breach || remaining <= 0 || nowMs - lastReport >= REPORT_EVERY_MS) {
      const seen = {
        newVersion: await trafficOf(ctx.provider, targets, 'to', startedMs, nowMs),
        oldVersion: await trafficOf(ctx.provider, targets, 'from', startedMs, nowMs),
      };
      Object.assign(report, seen);
      ctx.report.progress(
        `  ${pct(weight)}: new ${describeSeen(seen.newVersion)} · old ${describeSeen(seen.oldVersion)}${remaining > 0 && !breach ? ` · next step in ${formatDuration(Math.max(1000, remaining))}` : ''}`,
      );
      lastReport = nowMs;
    }
    if (breach) {
      shift.breach = breach;
      journal.save('running');
      const value =
        typeof breach.value === 'number' && breach.metric === 'errorRate' ? `${breach.value}%` : String(breach.value);
      throw new StepFailed(
        'shifting',
        `${env}: alarm ${breach.alarm} breached at ${pct(weight)}: ${breach.metric} ${value}${breach.invocations !== null ? ` over ${breach.invocations} invocations` : ''}${breach.windowMs !== null ? ` in ${formatDuration(breach.windowMs)}` : ''}${breach.reason ? ` (${breach.reason})` : ''}`,
        [],
        breach,
      );
    }
    if (remaining <= 0) break;
    await scope.ensureHeld();
    await sleep(Math.min(TICK_MS, remaining));
  }
  Object.assign(report, { endedAt: ctx.store.now().toISOString() });
}

function pct(weight: number): string {
  return `${Math.round(weight * 1000) / 10}%`;
}

function describeSeen(seen: TrafficSeen | undefined): string {
  if (!seen) return '-';
  const rate = seen.invocations === 0 ? 0 : Math.round((seen.errors / seen.invocations) * 1000) / 10;
  return `${seen.invocations} invocations, ${rate}% errors${seen.throttles > 0 ? `, ${seen.throttles} throttled` : ''}${seen.p99Ms !== null ? `, p99 ≤ ${seen.p99Ms} ms` : ''}`;
}
