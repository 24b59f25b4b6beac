/**
 * The small languages inside the manifest: durations (`72h`, `5m`, `1h30m`, `500ms`),
 * percentages (`10%`), memory sizes (`256`, `512MB`, `1GB`) and deployment policies
 * (`allAtOnce`, `canary 10% 5m`, `linear 10% every 1m`). Each parser returns `undefined` for
 * text it does not understand, so the schema can report what would be valid.
 */

const DURATION_UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/** Milliseconds of a duration such as `72h`, `5m`, `1h30m`, `1.5s` or `250ms`. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = DURATION_PART.exec(trimmed); match; match = DURATION_PART.exec(trimmed)) {
    total += Number(match[1]) * DURATION_UNIT_MS[match[2] as keyof typeof DURATION_UNIT_MS];
    consumed = DURATION_PART.lastIndex;
  }
  return consumed === trimmed.length ? Math.round(total) : undefined;
}

/** `1h30m` style text for a number of milliseconds, for messages. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1_000);
  for (const [unit, seconds] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const count = Math.floor(rest / seconds);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * seconds;
  }
  return parts.join('');
}

/** A percentage `10%` or `0.5%` as a number from 0 to 100. */
export function parsePercent(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  return value >= 0 && value <= 100 ? value : undefined;
}

/** Megabytes of `256`, `256MB` or `1GB` (binary: 1GB = 1024MB, as Lambda counts memory). */
export function parseMegabytes(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  const match = /^(\d+)\s*(MB|GB)?$/i.exec(value.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  return match[2]?.toUpperCase() === 'GB' ? amount * 1024 : amount;
}

/** How `live` moves to a new version (https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html). */
export type DeploymentPolicy =
  | { type: 'allAtOnce' }
  | { type: 'canary'; percent: number; waitMs: number }
  | { type: 'linear'; percent: number; intervalMs: number };

export const DEPLOYMENT_POLICY_FORMS =
  '`allAtOnce`, `canary <pct>% <duration>`, `linear <pct>% every <duration>` or an AWS name such as Canary10Percent5Minutes';

/**
 * AWS's predefined names (SAM's DeploymentPreference Type, CodeDeploy's `LambdaCanary10Percent5Minutes` …,
 * https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html) as aliases.
 */
const NAMED_POLICY =
  /^(?:Lambda)?(?:(Canary)(\d+)Percent(\d+)Minutes?|(Linear)(\d+)PercentEvery(\d+)Minutes?|(AllAtOnce))$/;

export function parseDeploymentPolicy(text: string): DeploymentPolicy | undefined {
  const named = NAMED_POLICY.exec(text.trim());
  if (named) {
    if (named[7]) return { type: 'allAtOnce' };
    const [percent, minutes] = named[1] ? [named[2], named[3]] : [named[5], named[6]];
    return parseDeploymentPolicy(named[1] ? `canary ${percent}% ${minutes}m` : `linear ${percent}% every ${minutes}m`);
  }
  const words = text.trim().split(/\s+/);
  if (words.length === 1 && words[0] === 'allAtOnce') return { type: 'allAtOnce' };
  const [kind, pct, third, fourth] = words;
  const percent = pct === undefined ? undefined : parsePercent(pct);
  if (percent === undefined || percent <= 0 || percent >= 100) return undefined;
  if (kind === 'canary' && words.length === 3) {
    const waitMs = parseDuration(third ?? '');
    return waitMs !== undefined && waitMs > 0 ? { type: 'canary', percent, waitMs } : undefined;
  }
  if (kind === 'linear' && words.length === 4 && third === 'every') {
    const intervalMs = parseDuration(fourth ?? '');
    return intervalMs !== undefined && intervalMs > 0 ? { type: 'linear', percent, intervalMs } : undefined;
  }
  return undefined;
}

/**
 * EventBridge schedule expressions: `rate(5 minutes)` or a six-field `cron(...)`
 * (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html).
 */
export type Schedule =
  { type: 'rate'; everyMs: number; expression: string } | { type: 'cron'; fields: string[]; expression: string };

const RATE_UNIT_MS: Record<string, number> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

export function parseSchedule(text: string): Schedule | undefined {
  const expression = text.trim();
  const rate = /^rate\((\d+)\s+(minutes?|hours?|days?)\)$/.exec(expression);
  if (rate) {
    const count = Number(rate[1]);
    const unit = rate[2] ?? '';
    // AWS wants the singular unit for 1 and the plural otherwise.
    if (count < 1 || (count === 1) !== !unit.endsWith('s')) return undefined;
    return { type: 'rate', everyMs: count * (RATE_UNIT_MS[unit] ?? 0), expression };
  }
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (cron) {
    const fields = (cron[1] ?? '').trim().split(/\s+/);
    if (fields.length !== 6 || !fields.every((field) => /^[\dA-Za-z*?,/\-#LW]+$/.test(field))) return undefined;
    return { type: 'cron', fields, expression };
  }
  return undefined;
}
