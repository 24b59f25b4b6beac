/**
 * The environment variables a function version runs with: manifest `config` < the
 * environment's `config` < the function's `config`, references resolved at deploy time, plus
 * the variables Stagecraft itself provides (DESIGN §3, "Inside a handler").
 */
import { digestOf } from '../digest.js';
import { StagecraftError } from '../errors.js';
import { resolveValue, type ReferenceSources } from './interpolate.js';
import type { Manifest } from './schema.js';

export interface ResolvedConfig {
  /** What the handler sees. Holds secret values: never write it anywhere. */
  values: Record<string, string>;
  /** What may be stored and shown: secret-bearing values stay as written (`${secret:…}`). */
  stored: Record<string, string>;
  /** The secret values used, for masking anything that is written. */
  secrets: string[];
  /** Digest of `values`: a change of any value, secrets included, makes a new version. */
  digest: string;
}

/** Physical name of a queue, topic or table of one environment: `<app>-<resource>-<env>`. */
export function resourceName(manifest: Pick<Manifest, 'app'>, resource: string, env: string): string {
  return `${manifest.app}-${resource}-${env}`;
}

/** `orders-dlq` → `ORDERS_DLQ`, for `STAGECRAFT_QUEUE_ORDERS_DLQ`. */
function variableSuffix(resource: string): string {
  return resource.toUpperCase().replace(/-/g, '_');
}

export function resolveConfig(
  manifest: Manifest,
  env: string,
  fn: string,
  release: string,
  sources: ReferenceSources,
): ResolvedConfig {
  const environment = manifest.environments.find((candidate) => candidate.name === env);
  const fnDef = manifest.functions[fn];
  if (!environment || !fnDef) throw new Error(`resolveConfig: unknown environment ${env} or function ${fn}`);
  const layers: [string, Record<string, string>][] = [
    ['config', manifest.config],
    [`environments[${env}].config`, environment.config],
    [`functions.${fn}.config`, fnDef.config],
  ];
  const merged = new Map<string, { raw: string; where: string }>();
  for (const [where, layer] of layers) for (const [key, raw] of Object.entries(layer)) merged.set(key, { raw, where });

  const values: Record<string, string> = {};
  const stored: Record<string, string> = {};
  const secrets: string[] = [];
  for (const [key, { raw, where }] of merged) {
    const resolution = resolveValue(raw, sources);
    if ('missing' in resolution) {
      const { missing } = resolution;
      throw new StagecraftError('ARGUMENT_INVALID', `${missing.text} in ${where}.${key} has no value for environment ${env}`, {
        hint: missing.kind === 'env'
          ? `set ${missing.name} in the environment of this command, or give a default: \${env:${missing.name}, value}`
          : `secret values never live in the manifest; this version of Stagecraft has no secret store yet, so \${secret:…} references cannot be deployed`,
      });
    }
    values[key] = resolution.value;
    stored[key] = resolution.secrets.length > 0 ? raw : resolution.value;
    secrets.push(...resolution.secrets);
  }

  const provided: Record<string, string> = { STAGECRAFT_APP: manifest.app, STAGECRAFT_ENV: env, STAGECRAFT_RELEASE: release };
  const { queues, topics, tables } = manifest.resources;
  for (const [kind, names] of [['QUEUE', queues], ['TOPIC', topics], ['TABLE', tables]] as const) {
    for (const resource of Object.keys(names)) provided[`STAGECRAFT_${kind}_${variableSuffix(resource)}`] = resourceName(manifest, resource, env);
  }
  Object.assign(values, provided);
  Object.assign(stored, provided);
  return { values, stored, secrets, digest: digestOf(values) };
}
