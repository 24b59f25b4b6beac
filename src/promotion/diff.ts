/**
 * `diff <from> <to> [--release R]`: what moving a release into `<to>` changes there, for the person
 * who presses the button. Per function: code (sha256 live in `<to>` against the release's), config
 * keys (secrets only by name and revision, read from the store without opening them), triggers;
 * then resources and the commits between the two releases. Nothing is changed and no key is needed.
 */
import { gitLog } from '../release/index.js';
import { StagecraftError } from '../errors.js';
import { aliasName, instanceName, pinnedSecrets, resolveConfig, type Manifest } from '../manifest/index.js';
import type { Release, VersionRecord } from '../state/index.js';
import { changedKeys } from './config-change.js';
import type { AppContext } from './context.js';
import { requireEnvironment, resolveRelease } from './promote.js';

export interface SecretChange {
  name: string;
  from: number | null;
  to: number | null;
}

export interface ConfigKeyChange {
  key: string;
  change: 'added' | 'removed' | 'changed';
  /** The values, for keys that hold no secret; a key that holds one shows only `secrets`. */
  from?: string;
  to?: string;
  secrets?: SecretChange[];
}

export interface FunctionDiff {
  function: string;
  instance: string;
  /** `new`: nothing live in `<to>` yet; `removed`: live in `<to>` but not in the release. */
  code: 'changed' | 'unchanged' | 'new' | 'removed';
  live: { version: number; release: string; sha256: string } | null;
  next: { release: string; sha256: string } | null;
  config: ConfigKeyChange[];
  triggers: { added: string[]; removed: string[] };
}

export interface EnvironmentDiff {
  from: string;
  to: string;
  release: string;
  /** The release live in `<to>` now (of its first function that has one), if any. */
  liveRelease: string | null;
  functions: FunctionDiff[];
  resources: { added: string[]; removed: string[]; changed: string[] };
  /** `git log` between the two releases' commits; null when either commit or the repository is not at hand. */
  commits: string[] | null;
  /** Whether anything at all changes. */
  changes: boolean;
}

type DiffContext = Pick<AppContext, 'loaded' | 'store' | 'provider' | 'env' | 'sharedReleases' | 'report'>;

export async function diffEnvironments(
  ctx: DiffContext,
  from: string,
  to: string,
  releaseRef?: string,
): Promise<EnvironmentDiff> {
  const { manifest } = ctx.loaded;
  requireEnvironment(manifest, from);
  requireEnvironment(manifest, to);
  const release = releaseRef === undefined ? await liveReleaseOf(ctx, from) : await resolveRelease(ctx, releaseRef);
  const next = release.manifest;
  const names = [...new Set([...Object.keys(next.functions), ...Object.keys(manifest.functions)])].sort();
  const functions: FunctionDiff[] = [];
  const liveReleases: string[] = [];
  for (const fn of names) {
    const instance = instanceName(next, fn, to);
    const live = await liveVersion(ctx, instance, aliasName(next, to, 'live'));
    if (live) liveReleases.push(live.releaseId);
    const built = release.functions.find((candidate) => candidate.function === fn);
    if (!built && !live) continue;
    const stored = built ? storedConfig(ctx, next, to, fn, release.id) : {};
    const before = live ? tryRelease(ctx, live.releaseId)?.manifest : undefined;
    functions.push({
      function: fn,
      instance,
      code: !built ? 'removed' : !live ? 'new' : live.sha256 === built.sha256 ? 'unchanged' : 'changed',
      live: live ? { version: live.version, release: live.releaseId, sha256: live.sha256 } : null,
      next: built ? { release: release.id, sha256: built.sha256 } : null,
      config: configChanges(live?.config ?? {}, stored),
      triggers: setChange(triggersOf(before, fn), built ? triggersOf(next, fn) : []),
    });
  }
  const liveRelease = liveReleases[0] ?? null;
  const previous = liveRelease === null ? undefined : tryRelease(ctx, liveRelease);
  const resources = resourceChanges(previous?.manifest, next);
  const commits =
    previous?.commit && release.commit ? gitLog(ctx.loaded.appDir, previous.commit, release.commit) : null;
  const changes =
    functions.some(
      (f) => f.code !== 'unchanged' || f.config.length > 0 || f.triggers.added.length + f.triggers.removed.length > 0,
    ) || resources.added.length + resources.removed.length + resources.changed.length > 0;
  return { from, to, release: release.id, liveRelease, functions, resources, commits, changes };
}

/** The release `live` runs in `env` (its first function that has one). */
async function liveReleaseOf(ctx: DiffContext, env: string): Promise<Release> {
  const { manifest } = ctx.loaded;
  for (const fn of Object.keys(manifest.functions)) {
    const live = await liveVersion(ctx, instanceName(manifest, fn, env), aliasName(manifest, env, 'live'));
    const release = live && tryRelease(ctx, live.releaseId);
    if (release) return release;
  }
  throw new StagecraftError('RELEASE_NOT_FOUND', `nothing Stagecraft released is live in ${env}`, {
    hint: `name the release with --release, or deploy ${env} first`,
  });
}

async function liveVersion(ctx: DiffContext, instance: string, alias: string): Promise<VersionRecord | undefined> {
  const pointer = await ctx.provider.getAlias(instance, alias);
  if (!pointer) return undefined;
  return (await ctx.provider.listVersions(instance)).find((version) => version.version === pointer.version);
}

function tryRelease(ctx: DiffContext, id: string): Release | undefined {
  try {
    return ctx.store.releases.find(id);
  } catch {
    return undefined; // a version published outside this app's state
  }
}

/** The config the release would be published with in `env`: secrets pinned to their current revision, never opened. */
function storedConfig(
  ctx: DiffContext,
  manifest: Manifest,
  env: string,
  fn: string,
  release: string,
): Record<string, string> {
  return resolveConfig(manifest, env, fn, release, {
    env: (name) => ctx.env[name],
    secret: (name) => {
      const current = ctx.store.secrets.current(env, name);
      return current && { value: '', revision: current.revision };
    },
  }).stored;
}

function configChanges(before: Record<string, string>, after: Record<string, string>): ConfigKeyChange[] {
  // Variables Stagecraft provides (STAGECRAFT_*) follow the environment and its resources, shown apart.
  return changedKeys(before, after)
    .filter((key) => !key.startsWith('STAGECRAFT_'))
    .map((key) => {
      const a = before[key];
      const b = after[key];
      const change = a === undefined ? 'added' : b === undefined ? 'removed' : 'changed';
      const pinned = [...pinnedSecrets(a ?? ''), ...pinnedSecrets(b ?? '')];
      if (pinned.length === 0)
        return { key, change, ...(a === undefined ? {} : { from: a }), ...(b === undefined ? {} : { to: b }) };
      const revision = (text: string | undefined, name: string) =>
        pinnedSecrets(text ?? '').find((ref) => ref.name === name)?.revision ?? null;
      const secrets = [...new Set(pinned.map((ref) => ref.name))]
        .sort()
        .map((name) => ({ name, from: revision(a, name), to: revision(b, name) }));
      return { key, change, secrets };
    });
}

function triggersOf(manifest: Manifest | undefined, fn: string): string[] {
  const def = manifest?.functions[fn];
  if (!def) return [];
  const events = def.events.map((event) => {
    if (event.type === 'http') return `http ${event.method} ${event.path}`;
    if (event.type === 'queue') return `queue ${event.name} (batch ${event.batchSize})`;
    if (event.type === 'schedule') return `schedule ${event.expression}`;
    return `topic ${event.name}`;
  });
  const destinations = Object.entries(def.destinations ?? {}).map(([on, target]) => `${on} ${JSON.stringify(target)}`);
  return [...events, ...destinations];
}

function setChange(before: string[], after: string[]): { added: string[]; removed: string[] } {
  return {
    added: after.filter((item) => !before.includes(item)),
    removed: before.filter((item) => !after.includes(item)),
  };
}

/** Queues, topics and tables as `queue orders`, compared by their whole definition. */
function resourceChanges(before: Manifest | undefined, after: Manifest): EnvironmentDiff['resources'] {
  const flatten = (manifest: Manifest | undefined) =>
    new Map(
      Object.entries(manifest?.resources ?? {}).flatMap(([kind, entries]) =>
        Object.entries(entries as Record<string, unknown>).map(
          ([name, def]) => [`${kind.replace(/s$/, '')} ${name}`, JSON.stringify(def)] as const,
        ),
      ),
    );
  const a = flatten(before);
  const b = flatten(after);
  return {
    added: [...b.keys()].filter((key) => !a.has(key)).sort(),
    removed: [...a.keys()].filter((key) => !b.has(key)).sort(),
    changed: [...b.keys()].filter((key) => a.has(key) && a.get(key) !== b.get(key)).sort(),
  };
}
