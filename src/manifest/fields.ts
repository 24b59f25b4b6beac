/**
 * Reusable field schemas of the manifest. Every one carries a message that says what would be
 * valid, because the loader prints it next to the file position of the offending value.
 */
import { z } from 'zod';
import { parseReferences } from './interpolate.js';
import {
  DEPLOYMENT_POLICY_FORMS,
  parseDeploymentPolicy,
  parseDuration,
  parseMegabytes,
  parsePercent,
  parseSchedule,
} from './units.js';

/** A strict object whose "unknown key" message lists the keys that are valid there. */
export function strict<T extends z.ZodRawShape>(shape: T) {
  const keys = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') return `valid keys here: ${keys}`;
      if (issue.code === 'invalid_type') return `expected a mapping with the keys ${keys}`;
      return undefined;
    },
  });
}

export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;

export const name = (what: string) =>
  z
    .string({ error: `expected ${what}: a lower-case name matching [a-z][a-z0-9-]{0,30}` })
    .regex(NAME_PATTERN, { error: `expected ${what}: a lower-case name matching [a-z][a-z0-9-]{0,30}` });

/** Transforms text with `parse`, reporting `expected` when it returns undefined. */
function parsed<T>(expected: string, parse: (text: string) => T | undefined) {
  return z.string({ error: `expected ${expected}` }).transform((text, ctx) => {
    const value = parse(text);
    if (value === undefined) {
      ctx.issues.push({ code: 'custom', message: `expected ${expected}`, input: text });
      return z.NEVER;
    }
    return value;
  });
}

export const durationMs = (what = 'a duration') => parsed(`${what} such as 30s, 5m, 72h or 1h30m`, parseDuration);

export const percent = parsed('a percentage such as 1% or 0.5%', parsePercent);

export const deploymentPolicy = parsed(DEPLOYMENT_POLICY_FORMS, parseDeploymentPolicy);

export const schedule = parsed(
  'an EventBridge schedule: rate(5 minutes), rate(1 hour) or cron(0 12 * * ? *)',
  parseSchedule,
);

/** A size in MB (a number, or text such as 1GB) within Lambda's range for `what`. */
function megabytesBetween(min: number, max: number, what: string, example: string) {
  const message = `expected ${what} in MB from ${min} to ${max}, e.g. ${example}`;
  return z.union([z.number(), z.string()], { error: message }).transform((value, ctx) => {
    const mb = parseMegabytes(value);
    if (mb === undefined || mb < min || mb > max) {
      ctx.issues.push({ code: 'custom', message, input: value });
      return z.NEVER;
    }
    return mb;
  });
}

/** Lambda's memory range, in MB (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). */
export const memoryMb = megabytesBetween(128, 10_240, 'memory', '256 or 1GB');

/** Lambda's `/tmp` size range, in MB (https://docs.aws.amazon.com/lambda/latest/dg/configuration-ephemeral-storage.html). */
export const ephemeralStorageMb = megabytesBetween(512, 10_240, 'ephemeral storage', '512 or 2GB');

/** Lambda's timeout range: 1 to 900 seconds, as a number of seconds or a duration. */
export const timeoutSeconds = z
  .union([z.number(), z.string()], { error: 'expected a timeout from 1 to 900 seconds, e.g. 10 or 30s' })
  .transform((value, ctx) => {
    const seconds = typeof value === 'number' ? value : (parseDuration(value) ?? Number.NaN) / 1_000;
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 900) {
      ctx.issues.push({
        code: 'custom',
        message: 'expected a whole number of seconds from 1 to 900, e.g. 10 or 30s',
        input: value,
      });
      return z.NEVER;
    }
    return seconds;
  });

export const positiveInt = (what: string, max = Number.MAX_SAFE_INTEGER) =>
  z
    .number({ error: `expected ${what}: a whole number from 1 to ${max}` })
    .int({ error: `expected ${what}: a whole number from 1 to ${max}` })
    .min(1, { error: `expected ${what}: a whole number from 1 to ${max}` })
    .max(max, { error: `expected ${what}: a whole number from 1 to ${max}` });

/**
 * Config keys become environment variables, so they follow Lambda's rule for variable names
 * (https://docs.aws.amazon.com/lambda/latest/api/API_Environment.html); values are text, with
 * numbers and booleans written as YAML scalars turned into text.
 */
const CONFIG_KEY = /^[A-Za-z][A-Za-z0-9_]*$/;
const RESERVED_KEY = /^(AWS_|LAMBDA_|_HANDLER$|_X_AMZN|STAGECRAFT_)/;

export const configMap = z.record(
  z
    .string()
    .regex(CONFIG_KEY, { error: 'expected a config key usable as an environment variable name: [A-Za-z][A-Za-z0-9_]*' })
    .refine((key) => !RESERVED_KEY.test(key), {
      error:
        'config keys starting with AWS_, LAMBDA_, _X_AMZN, STAGECRAFT_ or named _HANDLER are reserved by the runtime',
    }),
  z
    .union([z.string(), z.number(), z.boolean()], { error: 'expected a text, number or boolean config value' })
    .transform((value) => String(value))
    .superRefine((value, ctx) => {
      const refs = parseReferences(value);
      if ('problem' in refs) ctx.issues.push({ code: 'custom', message: refs.problem, input: value });
    }),
  { error: 'expected a mapping of config keys to values' },
);

const TARGET = /^(queue|topic|function):([a-z][a-z0-9-]{0,30})$/;

/** A destination or subscriber such as `queue:orders-dlq`, `topic:order-events`, `function:audit`. */
export const target = z
  .string({ error: 'expected a target: queue:<name>, topic:<name> or function:<name>' })
  .regex(TARGET, { error: 'expected a target: queue:<name>, topic:<name> or function:<name>' })
  .transform((text) => {
    const [, type, targetName] = TARGET.exec(text) as RegExpExecArray;
    return { type: type as 'queue' | 'topic' | 'function', name: targetName as string };
  });

export type Target = z.output<typeof target>;
