/**
 * `config show <env>` and `config diff <a> <b>`: the config each function would get, secrets
 * masked, with where each value comes from. Secrets are never opened here: whether one is set
 * is all that is asked of the store, so no key is needed to look.
 */
import { describeConfig, type ConfigEntry, type Manifest } from '../manifest/index.js';
import type { AppContext } from './context.js';
import { requireEnvironment } from './promote.js';

export interface ConfigView {
  environment: string;
  /** Where the manifest came from: `stagecraft.yml`, or the release named with --release. */
  manifest: string;
  functions: { function: string; entries: ConfigEntry[] }[];
  /** Every reference without a value, as `functions.api.config.KEY: ${secret:name}`. */
  missing: string[];
}

export type DiffStatus = 'differs' | 'only-a' | 'only-b' | 'secret';

export interface ConfigDiffKey {
  key: string;
  /** `differs`; `only-a`/`only-b` when one side has no such key; `secret` when both hold secrets, whose values are never compared. */
  status: DiffStatus;
  a: ConfigEntry | null;
  b: ConfigEntry | null;
}

export interface ConfigDiff {
  a: string;
  b: string;
  manifest: string;
  functions: { function: string; keys: ConfigDiffKey[] }[];
}

type ViewContext = Pick<AppContext, 'loaded' | 'store' | 'env' | 'secrets'>;

function manifestFor(
  ctx: ViewContext,
  releaseRef: string | undefined,
): { manifest: Manifest; from: string; release: string } {
  if (releaseRef === undefined)
    return { manifest: ctx.loaded.manifest, from: 'stagecraft.yml', release: '<the next release>' };
  const release = ctx.store.releases.find(releaseRef);
  return { manifest: release.manifest, from: `release ${release.id}`, release: release.id };
}

export function showConfig(ctx: ViewContext, env: string, releaseRef?: string): ConfigView {
  const { manifest, from, release } = manifestFor(ctx, releaseRef);
  requireEnvironment(manifest, env);
  const functions = Object.keys(manifest.functions)
    .sort()
    .map((fn) => ({
      function: fn,
      entries: describeConfig(
        manifest,
        env,
        fn,
        { env: (name) => ctx.env[name], secretSet: (name) => ctx.secrets.isSet(env, name) },
        release,
      ),
    }));
  const missing = new Set<string>();
  for (const { entries } of functions)
    for (const entry of entries) for (const text of entry.missing) missing.add(`${entry.source.path}: ${text}`);
  return { environment: env, manifest: from, functions, missing: [...missing].sort() };
}

/**
 * The keys whose values differ between two environments, function by function. Variables
 * Stagecraft provides (STAGECRAFT_*) differ between environments by design and are left out.
 */
export function diffConfig(ctx: ViewContext, a: string, b: string, releaseRef?: string): ConfigDiff {
  const left = showConfig(ctx, a, releaseRef);
  const right = showConfig(ctx, b, releaseRef);
  const functions = left.functions.map(({ function: fn, entries }) => {
    const mine = new Map(
      entries.filter((entry) => entry.source.layer !== 'stagecraft').map((entry) => [entry.key, entry]),
    );
    const theirs = new Map(
      (right.functions.find((other) => other.function === fn)?.entries ?? [])
        .filter((entry) => entry.source.layer !== 'stagecraft')
        .map((entry) => [entry.key, entry]),
    );
    const keys: ConfigDiffKey[] = [];
    for (const key of [...new Set([...mine.keys(), ...theirs.keys()])].sort()) {
      const x = mine.get(key) ?? null;
      const y = theirs.get(key) ?? null;
      const status: DiffStatus | undefined = !x
        ? 'only-b'
        : !y
          ? 'only-a'
          : x.secret && y.secret
            ? 'secret'
            : x.value !== y.value || x.secret !== y.secret || x.missing.join() !== y.missing.join()
              ? 'differs'
              : undefined;
      if (status) keys.push({ key, status, a: x, b: y });
    }
    return { function: fn, keys };
  });
  return { a, b, manifest: left.manifest, functions };
}
