/**
 * The fields of a traffic shift: `alarms:` watched on the new version's traffic during a shift,
 * and `hooks:` run before and after it (a function of the app, or a shell command).
 */
import { z } from 'zod';
import { durationMs, positiveInt, strict } from './fields.js';
import { DEFAULT_ALARM_WINDOW_MS, DEFAULT_MIN_INVOCATIONS } from './constants.js';
import { parseDuration, parsePercent } from './units.js';

/** `> 5%`, `> 800ms`, `> 0`: a threshold above which the alarm breaches (the `>` may be left out). */
function above<T>(expected: string, parse: (text: string) => T | undefined) {
  return z.union([z.string(), z.number()], { error: `expected ${expected}` }).transform((value, ctx) => {
    const text = String(value).trim().replace(/^>\s*/, '');
    const parsed = parse(text);
    if (parsed === undefined) {
      ctx.issues.push({ code: 'custom', message: `expected ${expected}`, input: value });
      return z.NEVER;
    }
    return parsed;
  });
}

const count = (text: string): number | undefined => (/^\d+$/.test(text) ? Number(text) : undefined);

const alarmEntry = strict({
  errorRate: above('an error rate such as "> 5%"', parsePercent).optional(),
  p99: above('a latency such as "> 800ms"', parseDuration).optional(),
  throttles: above('a number of throttles such as "> 0"', count).optional(),
  command: z.string({ error: 'expected a shell command' }).min(1).optional(),
  cloudwatch: z.string({ error: 'expected a CloudWatch alarm name or ARN' }).min(1).optional(),
  window: durationMs('an alarm window').optional(),
  minInvocations: positiveInt('minInvocations').optional(),
}).transform((entry, ctx) => {
  const kinds = (['errorRate', 'p99', 'throttles', 'command', 'cloudwatch'] as const).filter(
    (key) => entry[key] !== undefined,
  );
  if (kinds.length !== 1) {
    ctx.issues.push({
      code: 'custom',
      message: 'expected exactly one of errorRate, p99, throttles, command or cloudwatch in each alarm',
      input: entry,
    });
    return z.NEVER;
  }
  const windowMs = entry.window ?? DEFAULT_ALARM_WINDOW_MS;
  const minInvocations = entry.minInvocations ?? DEFAULT_MIN_INVOCATIONS;
  if (entry.command !== undefined) return { kind: 'command' as const, command: entry.command };
  if (entry.cloudwatch !== undefined) return { kind: 'cloudwatch' as const, alarm: entry.cloudwatch };
  if (entry.errorRate !== undefined)
    return { kind: 'errorRate' as const, threshold: entry.errorRate, windowMs, minInvocations };
  if (entry.p99 !== undefined) return { kind: 'p99' as const, threshold: entry.p99, windowMs, minInvocations };
  return { kind: 'throttles' as const, threshold: entry.throttles ?? 0, windowMs, minInvocations };
});

/** A list of alarms; the older single mapping `{ errorRate, p99, window }` is read as a list of two. */
export const alarms = z.preprocess(
  (value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
    const { window, ...metrics } = value as Record<string, unknown>;
    return Object.entries(metrics).map(([key, threshold]) => ({
      [key]: threshold,
      ...(window !== undefined ? { window } : {}),
    }));
  },
  z.array(alarmEntry, { error: 'expected a list of alarms such as - { errorRate: "> 5%", window: 1m }' }),
);

export type AlarmDef = z.output<typeof alarmEntry>;

/** A function of the app (by name) or a shell command. */
const hook = z.string({ error: 'expected a function name or a shell command' }).min(1);

export const hooks = strict({ preTraffic: hook.optional(), postTraffic: hook.optional() });
