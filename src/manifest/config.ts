/**
 * The environment variables a function version runs with: manifest `config` < the
 * environment's `config` < the function's `config`, references resolved at deploy time, plus
 * the variables Stagecraft itself provides (DESIGN §3, "Inside a handler").
 */
import { digestOf } from '../digest.js';
import { StagecraftError } from '../errors.js';
import { environmentSizeProblem } from './environment-size.js';
import { parseReferences, resolveValue, type Reference, type ReferenceSources } from './interpolate.js';
import type { Manifest } from './schema.js';

/** Where a config value comes from: the layer that set it last, and its key path in the manifest. */
export interface ConfigSource {
  layer: 'manifest' | 'environment' | 'function' | 'stagecraft';
  /** `config.LOG_LEVEL`, `environments[prod].config.PAYMENT_KEY`, `functions.api.config.FN_ONLY`; `stagecraft` for provided variables. */
  path: string;
  /** The value as written in the manifest, references and all. */
  raw: string;
}

export interface ResolvedConfig {
  /** What the handler sees. Holds secret values: never write it anywhere. */
  values: Record<string, string>;
  /**
   * What may be stored and shown: `${env:…}` resolved, secret references pinned to the revision
   * used (`${secret:payment-key@7}`), never a secret value.
   */
  stored: Record<string, string>;
  /** The secret values used, for masking anything that is written. */
  secrets: string[];
  /** Where each key's value comes from. */
  sources: Record<string, ConfigSource>;
  /**
   * Digest of `stored`: any change of a value — a secret set again included, since that makes a
   * new revision — makes a new version. It is taken over revisions, not secret values, so the
   * digest (kept in the ledger) cannot be used to guess a secret.
   */
  digest: string;
}

/** One key as `config show` presents it: secret values masked, unresolved references named. */
export interface ConfigEntry {
  key: string;
  /** The resolved value with every secret masked as `****`; undefined when a reference has no value. */
  value: string | undefined;
  source: ConfigSource;
  /** Whether the value holds a secret. */
  secret: boolean;
  /** The references that have no value for this environment (`${env:X}`, `${secret:y}`). */
  missing: string[];
}

/** Physical name of a queue, topic or table of one environment: `<app>-<resource>-<env>`. */
export function resourceName(manifest: Pick<Manifest, 'app'>, resource: string, env: string): string {
  return `${manifest.app}-${resource}-${env}`;
}

/** `orders-dlq` → `ORDERS_DLQ`, for `STAGECRAFT_QUEUE_ORDERS_DLQ`. */
function variableSuffix(resource: string): string {
  return resource.toUpperCase().replace(/-/g, '_');
}

/** Where a provider says its resources are: a queue's URL, a topic's ARN, a function's invocable name. */
export interface ResourceLocator {
  queueUrl: (queue: string) => string;
  topicArn: (topic: string) => string;
  /** `name:live-alias`, which Invoke takes as FunctionName on AWS and locally alike. */
  functionName: (fn: string) => string;
}

/**
 * The variables that let a handler reach its environment's resources without a lookup:
 * `STAGECRAFT_QUEUE_<NAME>_URL`, `STAGECRAFT_TOPIC_<NAME>_ARN`, `STAGECRAFT_FUNCTION_<NAME>`. The
 * provider sets them when a function runs or is published (they hold its endpoint or account),
 * so they are not part of a version's stored config.
 */
export function locatorVariables(
  manifest: Pick<Manifest, 'resources' | 'functions'>,
  locate: ResourceLocator,
): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const queue of Object.keys(manifest.resources.queues))
    variables[`STAGECRAFT_QUEUE_${variableSuffix(queue)}_URL`] = locate.queueUrl(queue);
  for (const topic of Object.keys(manifest.resources.topics))
    variables[`STAGECRAFT_TOPIC_${variableSuffix(topic)}_ARN`] = locate.topicArn(topic);
  for (const fn of Object.keys(manifest.functions))
    variables[`STAGECRAFT_FUNCTION_${variableSuffix(fn)}`] = locate.functionName(fn);
  return variables;
}

/** The three layers merged, each key with the layer that set it last. */
export function layered(manifest: Manifest, env: string, fn: string): Map<string, ConfigSource> {
  const environment = manifest.environments.find((candidate) => candidate.name === env);
  const fnDef = manifest.functions[fn];
  if (!environment || !fnDef) throw new Error(`resolveConfig: unknown environment ${env} or function ${fn}`);
  const layers: [ConfigSource['layer'], string, Record<string, string>][] = [
    ['manifest', 'config', manifest.config],
    ['environment', `environments[${env}].config`, environment.config],
    ['function', `functions.${fn}.config`, fnDef.config],
  ];
  const merged = new Map<string, ConfigSource>();
  for (const [layer, where, values] of layers)
    for (const [key, raw] of Object.entries(values)) merged.set(key, { layer, path: `${where}.${key}`, raw });
  return merged;
}

/** STAGECRAFT_APP, STAGECRAFT_ENV, STAGECRAFT_RELEASE and one variable per resource. */
function providedVariables(manifest: Manifest, env: string, release: string): Record<string, string> {
  const provided: Record<string, string> = {
    STAGECRAFT_APP: manifest.app,
    STAGECRAFT_ENV: env,
    STAGECRAFT_RELEASE: release,
  };
  const { queues, topics, tables } = manifest.resources;
  for (const [kind, names] of [
    ['QUEUE', queues],
    ['TOPIC', topics],
    ['TABLE', tables],
  ] as const) {
    for (const resource of Object.keys(names))
      provided[`STAGECRAFT_${kind}_${variableSuffix(resource)}`] = resourceName(manifest, resource, env);
  }
  return provided;
}

/**
 * The config of one function version. Every reference without a value is reported at once,
 * and nothing is returned then: a deploy must stop before it changes anything.
 */
export function resolveConfig(
  manifest: Manifest,
  env: string,
  fn: string,
  release: string,
  sources: ReferenceSources,
): ResolvedConfig {
  const values: Record<string, string> = {};
  const stored: Record<string, string> = {};
  const secrets: string[] = [];
  const origins: Record<string, ConfigSource> = {};
  const problems: { source: ConfigSource; reference: Reference; problem?: string }[] = [];
  for (const [key, source] of layered(manifest, env, fn)) {
    const resolution = resolveValue(source.raw, sources);
    if ('missing' in resolution) problems.push({ source, reference: resolution.missing });
    else if ('unusable' in resolution)
      problems.push({ source, reference: resolution.unusable, problem: resolution.problem });
    else {
      values[key] = resolution.value;
      stored[key] = resolution.stored;
      secrets.push(...resolution.secrets);
      origins[key] = source;
    }
  }
  if (problems.length > 0) throw unresolved(env, fn, problems);

  const provided = providedVariables(manifest, env, release);
  Object.assign(values, provided);
  Object.assign(stored, provided);
  for (const [key, value] of Object.entries(provided))
    origins[key] = { layer: 'stagecraft', path: 'stagecraft', raw: value };
  const tooLarge = environmentSizeProblem(values);
  if (tooLarge !== undefined) {
    throw new StagecraftError('MANIFEST_INVALID', `function ${fn} in ${env}: ${tooLarge}`, {
      hint: 'Move large values out of config (into a file in the code, a table or a secret read at run time); Lambda refuses the function otherwise.',
    });
  }
  return { values, stored, secrets: [...new Set(secrets)], sources: origins, digest: digestOf(stored) };
}

/**
 * The config of one function as `config show` presents it: each key's value with secrets
 * masked, where it comes from, and what is missing. Never throws for a missing reference.
 * `secretSet(name)` says whether a secret is set; its value is never needed.
 */
export function describeConfig(
  manifest: Manifest,
  env: string,
  fn: string,
  sources: { env: ReferenceSources['env']; secretSet: (name: string) => boolean },
  release = '<release>',
): ConfigEntry[] {
  const entries: ConfigEntry[] = [];
  for (const [key, source] of layered(manifest, env, fn)) {
    const parsed = parseReferences(source.raw);
    const references = 'references' in parsed ? parsed.references : [];
    const missing = references
      .filter((ref) =>
        ref.kind === 'env' ? (sources.env(ref.name) ?? ref.fallback) === undefined : !sources.secretSet(ref.name),
      )
      .map((ref) => ref.text);
    const secret = references.some((ref) => ref.kind === 'secret');
    const resolution =
      missing.length > 0
        ? undefined
        : resolveValue(source.raw, { env: sources.env, secret: () => ({ value: '****', revision: 0 }) });
    if (resolution && 'unusable' in resolution) missing.push(`${resolution.unusable.text} (${resolution.problem})`);
    const value = resolution && 'value' in resolution ? resolution.value : undefined;
    entries.push({ key, value, source, secret, missing });
  }
  for (const [key, value] of Object.entries(providedVariables(manifest, env, release))) {
    entries.push({
      key,
      value,
      source: { layer: 'stagecraft', path: 'stagecraft', raw: value },
      secret: false,
      missing: [],
    });
  }
  return entries;
}

/** Every `${secret:NAME}` the config of `env` uses, by name, with the key paths that use it. */
export function secretReferences(manifest: Manifest, env: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const fn of Object.keys(manifest.functions)) {
    for (const source of layered(manifest, env, fn).values()) {
      const parsed = parseReferences(source.raw);
      if (!('references' in parsed)) continue;
      for (const ref of parsed.references) {
        if (ref.kind !== 'secret') continue;
        const paths = found.get(ref.name) ?? [];
        if (!paths.includes(source.path)) paths.push(source.path);
        found.set(ref.name, paths);
      }
    }
  }
  return found;
}

function unresolved(
  env: string,
  fn: string,
  problems: { source: ConfigSource; reference: Reference; problem?: string }[],
): StagecraftError {
  const details = problems.map(
    ({ source, reference, problem }) =>
      `${source.path}: ${problem ?? `${reference.text} has no value for environment ${env}`}`,
  );
  const secrets = [
    ...new Set(
      problems.filter((p) => p.reference.kind === 'secret' && p.problem === undefined).map((p) => p.reference.name),
    ),
  ];
  const envs = [
    ...new Set(
      problems.filter((p) => p.reference.kind === 'env' && p.problem === undefined).map((p) => p.reference.name),
    ),
  ];
  const hints = [
    ...(envs.length > 0
      ? [`set ${envs.join(', ')} in the environment of this command, or give a default: \${env:${envs[0]}, value}`]
      : []),
    ...(secrets.length > 0
      ? [
          `set ${secrets.length === 1 ? 'the secret' : 'each secret'} with ${secrets.map((name) => `\`stagecraft secret set ${env} ${name}\``).join(', ')} (values are read from stdin)`,
        ]
      : []),
  ];
  const first = problems[0] as (typeof problems)[number];
  const message =
    problems.length === 1
      ? `${first.problem ?? `${first.reference.text} has no value for environment ${env}`} (${first.source.path}, function ${fn})`
      : `${problems.length} config values of function ${fn} cannot be resolved for environment ${env}`;
  return new StagecraftError('CONFIG_UNRESOLVED', message, {
    ...(problems.length > 1 ? { details } : {}),
    hint:
      hints.length > 0
        ? `${hints.join('; ')}. Nothing was changed.`
        : 'fix the values named above. Nothing was changed.',
  });
}
