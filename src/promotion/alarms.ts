/**
 * A shift's alarms, on the new version's traffic: errorRate, p99 and throttles over their window, judged by the
 * platform's alarms where the provider keeps them (aws: CloudWatch, ALARM = breach), else here from its metrics (a
 * rate or percentile needs `minInvocations` first); commands (exit ≠ 0 = breach); platform alarms named by name/ARN.
 */
import type { AlarmDef } from '../manifest/index.js';
import type { AlarmState, ArmedAlarm, Provider } from '../providers/index.js';
import type { Breach, TrafficSeen } from './journal.js';
import { runCommand } from './smoke/run-command.js';

/** One function whose `live` moves from version `from` to `to` in this shift. */
export interface ShiftTarget {
  function: string;
  instance: string;
  alias: string;
  from: number;
  to: number;
}

const COMMAND_TIMEOUT_MS = 60_000;

export function describeAlarm(alarm: AlarmDef): string {
  switch (alarm.kind) {
    case 'errorRate':
      return `errorRate > ${alarm.threshold}%`;
    case 'p99':
      return `p99 > ${alarm.threshold}ms`;
    case 'throttles':
      return `throttles > ${alarm.threshold}`;
    case 'command':
      return `command ${alarm.command}`;
    case 'cloudwatch':
      return `cloudwatch ${alarm.alarm}`;
  }
}

/** The traffic of the `which` side of every target over [sinceMs, untilMs], summed (p99: the worst). */
export async function trafficOf(
  provider: Provider,
  targets: ShiftTarget[],
  which: 'from' | 'to',
  sinceMs: number,
  untilMs: number,
): Promise<TrafficSeen> {
  const seen: TrafficSeen = { invocations: 0, errors: 0, throttles: 0, p99Ms: null };
  if (!provider.versionMetrics) return seen;
  for (const target of targets) {
    const summary = await provider.versionMetrics({
      instance: target.instance,
      alias: target.alias,
      version: target[which],
      sinceMs,
      untilMs,
    });
    seen.invocations += summary.invocations;
    seen.errors += summary.errors;
    seen.throttles += summary.throttles;
    if (summary.p99Ms !== null) seen.p99Ms = Math.max(seen.p99Ms ?? 0, summary.p99Ms);
  }
  return seen;
}

export interface AlarmContext {
  provider: Provider;
  targets: ShiftTarget[];
  /** When the shift began: traffic before it is not the new version's canary traffic. */
  shiftStartMs: number;
  nowMs: number;
  cwd: string;
  env: Record<string, string>;
  /** The platform alarms that judge errorRate / p99 / throttles (Provider.armShiftAlarms); absent: judged here. */
  armed?: ArmedAlarm[] | undefined;
}

/** The first alarm in breach, or undefined. */
export async function firstBreach(alarms: AlarmDef[], ctx: AlarmContext): Promise<Breach | undefined> {
  const at = (ms: number) => new Date(ms).toISOString();
  const named = alarms.flatMap((alarm) => (alarm.kind === 'cloudwatch' ? [alarm.alarm] : []));
  // One read for every platform alarm of the environment per poll.
  const platform = [...(ctx.armed ?? []).map((armed) => armed.name), ...named];
  const states = platform.length > 0 && ctx.provider.alarmStates ? await ctx.provider.alarmStates(platform) : [];
  for (const [index, alarm] of alarms.entries()) {
    const name = describeAlarm(alarm);
    if (alarm.kind === 'command') {
      const run = await runCommand(alarm.command, { cwd: ctx.cwd, env: ctx.env, timeoutMs: COMMAND_TIMEOUT_MS });
      if (run.exitCode !== 0) {
        return {
          alarm: name,
          metric: 'exitCode',
          value: run.timedOut ? 'timed out' : run.exitCode,
          threshold: 0,
          windowMs: null,
          invocations: null,
          from: at(ctx.nowMs),
          to: at(ctx.nowMs),
        };
      }
      continue;
    }
    if (alarm.kind === 'cloudwatch') {
      const state = states.find((candidate) => candidate.alarm === alarm.alarm);
      if (state?.state === 'ALARM') {
        return {
          alarm: name,
          metric: 'state',
          value: 'ALARM',
          threshold: null,
          windowMs: null,
          invocations: null,
          ...(state.reason ? { reason: state.reason } : {}),
          from: at(ctx.nowMs),
          to: at(ctx.nowMs),
        };
      }
      continue;
    }
    if (ctx.armed) {
      for (const armed of ctx.armed.filter((candidate) => candidate.index === index)) {
        const state = states.find((candidate) => candidate.alarm === armed.name);
        if (state?.state === 'ALARM') return platformBreach(alarm.kind, alarm.threshold, armed, state, ctx.nowMs);
      }
      continue;
    }
    const sinceMs = Math.max(ctx.shiftStartMs, ctx.nowMs - alarm.windowMs);
    const seen = await trafficOf(ctx.provider, ctx.targets, 'to', sinceMs, ctx.nowMs);
    const breach = (metric: string, value: number | null): Breach => ({
      alarm: name,
      metric,
      value,
      threshold: alarm.threshold,
      windowMs: alarm.windowMs,
      invocations: seen.invocations,
      from: at(sinceMs),
      to: at(ctx.nowMs),
    });
    if (alarm.kind === 'throttles' && seen.throttles > alarm.threshold) return breach('throttles', seen.throttles);
    if (seen.invocations < alarm.minInvocations) continue;
    const rate = Math.round((seen.errors / seen.invocations) * 10_000) / 100;
    if (alarm.kind === 'errorRate' && rate > alarm.threshold) return breach('errorRate', rate);
    if (alarm.kind === 'p99' && seen.p99Ms !== null && seen.p99Ms > alarm.threshold) return breach('p99', seen.p99Ms);
  }
  return undefined;
}

/** A platform alarm in ALARM: its name, the value that breached when the platform says, its window and reason. */
function platformBreach(
  metric: string,
  threshold: number,
  armed: ArmedAlarm,
  state: AlarmState,
  nowMs: number,
): Breach {
  const toMs = state.since ? Date.parse(state.since) : nowMs;
  return {
    alarm: armed.name,
    metric,
    value: state.value ?? 'ALARM',
    threshold,
    windowMs: armed.windowMs,
    invocations: null,
    ...(state.reason ? { reason: state.reason } : {}),
    from: new Date(toMs - armed.windowMs).toISOString(),
    to: new Date(toMs).toISOString(),
  };
}
