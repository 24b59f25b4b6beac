/**
 * A shift's alarms, evaluated on the new version's traffic: errorRate, p99 and throttles over
 * their window (a rate or percentile needs `minInvocations` in the window before it can breach;
 * throttles count from the first), commands (exit ≠ 0 = breach) and platform alarms by name
 * (aws: CloudWatch, in state ALARM = breach).
 */
import type { AlarmDef } from '../manifest/index.js';
import type { Provider } from '../providers/index.js';
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
}

/** The first alarm in breach, or undefined. */
export async function firstBreach(alarms: AlarmDef[], ctx: AlarmContext): Promise<Breach | undefined> {
  const at = (ms: number) => new Date(ms).toISOString();
  const named = alarms.flatMap((alarm) => (alarm.kind === 'cloudwatch' ? [alarm.alarm] : []));
  const states = named.length > 0 && ctx.provider.alarmStates ? await ctx.provider.alarmStates(named) : [];
  for (const alarm of alarms) {
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
          threshold: state.reason ?? null,
          windowMs: null,
          invocations: null,
          from: at(ctx.nowMs),
          to: at(ctx.nowMs),
        };
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
