/**
 * `stagecraft.yml`, as one strict zod schema (DESIGN §3). Unknown keys are errors, and every
 * type the rest of Stagecraft uses is inferred from here, never written twice.
 */
import { z } from 'zod';
import {
  configMap,
  deploymentPolicy,
  durationMs,
  ephemeralStorageMb,
  memoryMb,
  name,
  positiveInt,
  schedule,
  strict,
  target,
  timeoutSeconds,
} from './fields.js';

import { HTTP_METHODS, RUNTIMES } from './constants.js';
import { alarms, hooks } from './traffic.js';

const runtime = z.enum(RUNTIMES, { error: `expected a runtime: ${RUNTIMES.join(', ')}` });

/** `/orders/{id}`, `/files/{proxy+}`: API Gateway route paths; a greedy parameter only at the end. */
const ROUTE_PATH =
  /^\/(?:[A-Za-z0-9._~-]+|\{[A-Za-z_][A-Za-z0-9_]*\})?(?:\/(?:[A-Za-z0-9._~-]+|\{[A-Za-z_][A-Za-z0-9_]*\}))*(?:\/\{[A-Za-z_][A-Za-z0-9_]*\+\})?$/;
const routePath = z
  .string({ error: 'expected a route path such as /orders/{id} or /files/{proxy+}' })
  .regex(ROUTE_PATH, {
    error: 'expected a route path such as /orders/{id} or /files/{proxy+} (a greedy {name+} only at the end)',
  });
const httpMethod = z.enum(HTTP_METHODS, { error: `expected an HTTP method: ${HTTP_METHODS.join(', ')}` });
const payloadFormat = z.enum(['2.0', '1.0'], {
  error: 'expected payload "2.0" (HTTP API, the default) or "1.0" (REST)',
});

const httpShort = z.string().transform((text, ctx) => {
  const match = /^([A-Z]+)\s+(\S+)$/.exec(text.trim());
  const method = httpMethod.safeParse(match?.[1]);
  const path = routePath.safeParse(match?.[2]);
  if (!match || !method.success || !path.success) {
    ctx.issues.push({
      code: 'custom',
      message: `expected "<METHOD> <path>", e.g. "GET /orders/{id}", with METHOD one of ${HTTP_METHODS.join(', ')}`,
      input: text,
    });
    return z.NEVER;
  }
  return { method: method.data, path: path.data, payload: '2.0' as const };
});
const httpEvent = z.union(
  [httpShort, strict({ method: httpMethod, path: routePath, payload: payloadFormat.default('2.0') })],
  { error: 'expected "<METHOD> <path>" or { method, path, payload }' },
);

const queueEvent = z.union(
  [
    name('a queue name').transform((queue) => ({ name: queue, batchSize: 10 })),
    strict({
      name: name('a queue name'),
      batchSize: positiveInt('batchSize', 10_000).default(10),
      maximumBatchingWindow: durationMs().optional(),
    }),
  ],
  { error: 'expected a queue name or { name, batchSize }' },
);

const scheduleEvent = z.union(
  [
    schedule.transform((expression) => ({ expression, input: undefined as unknown })),
    strict({ expression: schedule, input: z.unknown().optional() }),
  ],
  { error: 'expected a schedule expression or { expression, input }' },
);

const topicEvent = z.union(
  [name('a topic name').transform((topic) => ({ name: topic })), strict({ name: name('a topic name') })],
  { error: 'expected a topic name or { name }' },
);

/** One event source; exactly one of its keys is set. */
const event = strict({
  http: httpEvent.optional(),
  queue: queueEvent.optional(),
  schedule: scheduleEvent.optional(),
  topic: topicEvent.optional(),
}).transform((value, ctx) => {
  const kinds = Object.keys(value).filter((key) => value[key as keyof typeof value] !== undefined);
  if (kinds.length !== 1) {
    ctx.issues.push({
      code: 'custom',
      message: 'an event has exactly one of http, queue, schedule or topic',
      input: value,
    });
    return z.NEVER;
  }
  if (value.http) return { type: 'http' as const, ...value.http };
  if (value.queue) return { type: 'queue' as const, ...value.queue };
  if (value.schedule) return { type: 'schedule' as const, ...value.schedule };
  return { type: 'topic' as const, ...(value.topic as { name: string }) };
});

/** A path inside the app: relative, and never climbing out with ".." (build bundles only what is inside). */
function insideApp(path: string): boolean {
  return !path.startsWith('/') && !path.split(/[\\/]/).includes('..');
}

const fn = strict({
  handler: z
    .string({ error: 'expected a handler: <file>.<export>, e.g. src/api.handler' })
    .regex(/^[^\s]+\.[A-Za-z_$][\w$]*$/, { error: 'expected a handler: <file>.<export>, e.g. src/api.handler' })
    .refine(insideApp, {
      error: 'the handler file must be inside the app folder: a relative path without "..", e.g. src/api.handler',
    }),
  runtime: runtime.optional(),
  code: z
    .string({
      error: 'expected a folder, relative to the app: zipped as it is (provided runtimes), the source root (python)',
    })
    .refine(insideApp, { error: 'the code folder must be inside the app folder: a relative path without ".."' })
    .optional(),
  /** python runtimes: which files of the source folder go into the artifact (globs relative to it). */
  package: strict({ include: z.array(z.string()).optional(), exclude: z.array(z.string()).optional() }).optional(),
  /** python runtimes: the requirements file vendored at build; default requirements.txt beside the handler or at the root. */
  requirements: z
    .string({ error: 'expected a requirements file, relative to the app' })
    .refine(insideApp, { error: 'the requirements file must be inside the app folder: a relative path without ".."' })
    .optional(),
  memory: memoryMb.default(128),
  /** The size of the function's private /tmp. */
  ephemeralStorage: ephemeralStorageMb.default(512),
  timeout: timeoutSeconds.default(3),
  concurrency: positiveInt('concurrency', 1_000).default(10),
  config: configMap.default({}),
  events: z.array(event, { error: 'expected a list of events' }).default([]),
  destinations: strict({ onSuccess: target.optional(), onFailure: target.optional() }).optional(),
});

const environment = strict({
  name: name('an environment name'),
  config: configMap.default({}),
  approval: z.enum(['auto', 'manual'], { error: 'expected approval: auto or manual' }).default('auto'),
  soak: durationMs('a soak time').optional(),
  deployment: deploymentPolicy.default({ type: 'allAtOnce' }),
  alarms: alarms.default([]),
  hooks: hooks.default({}),
});

const queue = strict({
  visibilityTimeout: positiveInt('visibilityTimeout in seconds', 43_200).default(30),
  maxReceiveCount: positiveInt('maxReceiveCount', 1_000).optional(),
  deadLetter: name('a queue name').optional(),
  retention: durationMs('a retention period').optional(),
  /** Declared so that asking for a FIFO queue gets a clear refusal (cross-check) rather than "unknown key". */
  fifo: z.boolean({ error: 'expected fifo: true or false' }).optional(),
})
  .nullish()
  .transform((value) => value ?? { visibilityTimeout: 30 });

const keyAttribute = z.union(
  [
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, { error: 'expected an attribute name' })
      .transform((attr) => ({ name: attr, type: 'S' as const })),
    strict({
      name: z.string(),
      type: z.enum(['S', 'N', 'B'], { error: 'expected an attribute type: S, N or B' }).default('S'),
    }),
  ],
  { error: 'expected an attribute name or { name, type }' },
);

const table = strict({ partitionKey: keyAttribute, sortKey: keyAttribute.optional() });
const topic = strict({ subscribers: z.array(target).default([]) })
  .nullish()
  .transform((value) => value ?? { subscribers: [] });

const expectation = strict({
  status: z.number({ error: 'expected an HTTP status code' }).int().min(100).max(599).optional(),
  bodyContains: z.string().optional(),
  json: z.unknown().optional(),
  headers: z.record(z.string(), z.string()).optional(),
});

const smokeTest = strict({
  name: z.string({ error: 'expected a smoke test name' }).min(1),
  http: z
    .union(
      [
        httpShort.transform(({ method, path }) => ({
          method,
          path,
          headers: {} as Record<string, string>,
          body: undefined as string | undefined,
        })),
        strict({
          method: httpMethod,
          path: z.string().startsWith('/'),
          headers: z.record(z.string(), z.string()).default({}),
          body: z.string().optional(),
        }),
      ],
      { error: 'expected "<METHOD> <path>" or { method, path, headers, body }' },
    )
    .optional(),
  invoke: name('a function name').optional(),
  event: z.unknown().optional(),
  run: z.string().min(1).optional(),
  expect: expectation.default({}),
  timeout: durationMs('a timeout').default(30_000),
}).transform((value, ctx) => {
  const kinds = (['http', 'invoke', 'run'] as const).filter((key) => value[key] !== undefined);
  if (kinds.length !== 1) {
    ctx.issues.push({
      code: 'custom',
      message: 'a smoke test has exactly one of http, invoke or run',
      input: value.name,
    });
    return z.NEVER;
  }
  return value;
});

/**
 * A finding of the credential scan that is not a credential, let through on purpose: which file,
 * optionally which rule and line, and why. The reason is recorded in the release.
 */
const credentialAllowEntry = strict({
  file: z.string({ error: 'expected the file, relative to the app, e.g. src/fixtures.ts' }).min(1),
  rule: z.string({ error: 'expected a rule id, e.g. github or @secretlint/secretlint-rule-github' }).min(1).optional(),
  line: positiveInt('line', 1_000_000).optional(),
  reason: z
    .string({ error: 'expected a reason: why this is not a credential' })
    .trim()
    .min(3, { error: 'expected a reason: why this is not a credential' }),
});

/** A shell command the generated CI pipeline runs in every step that checks the app (`npm ci`, `npm test`). */
const ciCommand = z
  .string({ error: 'expected a shell command, e.g. npm test' })
  .trim()
  .min(1, { error: 'expected a shell command, e.g. npm test' });

/** What `stagecraft ci` generates around Stagecraft's own steps: the app's own commands, each optional. */
const ci = strict({
  install: ciCommand.optional(),
  lint: ciCommand.optional(),
  test: ciCommand.optional(),
  /** Every branch other than main deploys its own ephemeral environment (`deploy --ephemeral`). */
  branchEnvironments: z.boolean({ error: 'expected branchEnvironments: true or false' }).default(false),
});

export const manifestSchema = strict({
  app: name('an app name'),
  provider: z.enum(['local', 'aws'], { error: 'expected provider: local or aws' }).default('local'),
  strategy: z
    .enum(['multi-stack', 'single-stack'], { error: 'expected strategy: multi-stack or single-stack' })
    .default('multi-stack'),
  runtime: runtime.default('nodejs22.x'),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'expected an AWS region such as us-east-1' })
    .default('us-east-1'),
  config: configMap.default({}),
  environments: z
    .array(environment, { error: 'expected a list of environments' })
    .min(1, { error: 'declare at least one environment' }),
  functions: z
    .record(name('a function name'), fn, { error: 'expected a mapping of function names to functions' })
    .refine((functions) => Object.keys(functions).length > 0, { error: 'declare at least one function' }),
  resources: strict({
    queues: z.record(name('a queue name'), queue).default({}),
    topics: z.record(name('a topic name'), topic).default({}),
    tables: z.record(name('a table name'), table).default({}),
  }).default({ queues: {}, topics: {}, tables: {} }),
  smoke: z.array(smokeTest, { error: 'expected a list of smoke tests' }).default([]),
  /** The credential scan `build` runs over the sources it bundles and this manifest. */
  credentials: strict({
    allow: z.array(credentialAllowEntry, { error: 'expected a list of { file, rule, line, reason }' }).default([]),
  }).optional(), // optional, not defaulted: the digest of a manifest without it stays what it was
  /** Per-developer/branch environments `dev-<who>-<branch>`, copied from the chain environment `from`. */
  ephemeral: strict({
    from: name('an environment name'),
    ttl: durationMs('a time to live').default(72 * 3_600_000),
  }).optional(), // optional, not defaulted: the digest of a manifest without it stays what it was
  state: strict({
    backend: z.enum(['sqlite', 'dynamodb'], { error: 'expected state backend: sqlite or dynamodb' }).default('sqlite'),
    table: z.string().optional(),
  }).optional(),
  ci: ci.optional(), // optional, not defaulted, like credentials: digests of manifests without it stay
});

export type Manifest = z.output<typeof manifestSchema>;
export type FunctionDef = Manifest['functions'][string];
export type EnvironmentDef = Manifest['environments'][number];
export type EventDef = FunctionDef['events'][number];
export type HttpEventDef = Extract<EventDef, { type: 'http' }>;
export type SmokeTestDef = Manifest['smoke'][number];
export type CiSettings = NonNullable<Manifest['ci']>;
export type CredentialAllowEntry = NonNullable<Manifest['credentials']>['allow'][number];
export type Runtime = (typeof RUNTIMES)[number];
