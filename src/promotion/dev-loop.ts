/**
 * The inner loop behind `stagecraft dev`: which environment is the developer's own, and putting
 * a freshly built release live there — publish, (smoke), move `live` — without the promotion
 * lock, so a `promote` from another terminal goes on undisturbed. Nothing else is ever touched.
 */
import { gitBranch } from '../release/index.js';
import { StagecraftError } from '../errors.js';
import { aliasName, ephemeralEnvironmentName, instanceName, withEphemeral } from '../manifest/index.js';
import type { ChangeMeta, Release } from '../state/index.js';
import { pointAlias } from './aliases.js';
import type { AppContext } from './context.js';
import { checkConfig } from './promote.js';
import { publishFunction } from './publish.js';
import { runSmokeTests, SmokeGateways, type SmokeResult } from './smoke/index.js';

export interface DevEnvironment {
  name: string;
  ephemeral: boolean;
  created: boolean;
}

/**
 * `--env E` when given; else the developer's ephemeral environment when the manifest has
 * `ephemeral:` (recorded now when missing), else the first environment of the chain.
 */
export function devEnvironment(ctx: AppContext, requested?: string): DevEnvironment {
  const { manifest } = ctx.loaded;
  const known = ctx.store.environments.list();
  if (requested !== undefined) {
    const ephemeral = known.some((env) => env.name === requested);
    if (!ephemeral && !manifest.environments.some((env) => env.name === requested)) {
      throw new StagecraftError('ENVIRONMENT_UNKNOWN', `no environment "${requested}" in ${manifest.app}`, {
        hint: `environments: ${[...manifest.environments, ...known].map((env) => env.name).join(', ')}`,
      });
    }
    return { name: requested, ephemeral, created: false };
  }
  const spec = manifest.ephemeral;
  if (!spec) return { name: manifest.environments[0]?.name ?? '', ephemeral: false, created: false };
  const branch = gitBranch(ctx.loaded.appDir);
  if (!branch) {
    throw new StagecraftError('ARGUMENT_INVALID', 'no git branch is checked out here to name your environment after', {
      hint: 'check out a branch, or pick an environment: stagecraft dev --env <name>',
    });
  }
  const name = ephemeralEnvironmentName(ctx.actor, branch);
  if (known.some((env) => env.name === name)) return { name, ephemeral: true, created: false };
  ctx.store.transaction(() =>
    ctx.store.environments.upsert({
      name,
      owner: ctx.actor,
      branch,
      from: spec.from,
      createdBy: ctx.actor,
      ttlMs: spec.ttl,
    }),
  );
  return { name, ephemeral: true, created: true };
}

export interface DevPublishOptions {
  /** Run the manifest's smoke tests against `smoke` before `live` moves. */
  smoke?: boolean;
  /**
   * Called with the versions just published, before any traffic reaches them: the running
   * runtime starts their execution environments here. Returns the functions whose new version
   * cannot start (an init error): their `live` stays where it was.
   */
  warm?: (versions: Record<string, number>) => Promise<string[]>;
}

export interface DevPublished {
  /** Function → the version now live (or on `smoke`, when a smoke test failed). */
  versions: Record<string, number>;
  smoke: SmokeResult[];
  /** False when a smoke test failed: `live` stayed where it was. */
  live: boolean;
}

/** Publishes `functions` of `release` in `env` and moves their `live` (after smoke tests with `smoke`). */
export async function publishDev(
  ctx: AppContext,
  release: Release,
  env: string,
  functions: readonly string[],
  options: DevPublishOptions = {},
): Promise<DevPublished> {
  const ephemeral = ctx.store.environments.list();
  checkConfig(ctx, release, [env], ephemeral);
  const manifest = withEphemeral(release.manifest, ephemeral);
  const meta = (fn: string, detail: Record<string, unknown> = {}): ChangeMeta => ({
    operation: 'dev',
    actor: ctx.actor,
    environment: env,
    function: fn,
    releaseId: release.id,
    commit: release.commit,
    detail: { ...detail, devLoop: true },
  });
  await ctx.provider.ensureStack(
    {
      app: manifest.app,
      environment: env,
      strategy: manifest.strategy,
      resources: manifest.resources,
      functions: release.functions.map((fn) => ({
        function: fn.function,
        instance: instanceName(manifest, fn.function, env),
      })),
      definitions: manifest.functions,
    },
    meta(''),
  );
  const versions: Record<string, number> = {};
  for (const fn of release.functions.filter((candidate) => functions.includes(candidate.function))) {
    const def = manifest.functions[fn.function];
    if (!def) continue;
    const instance = instanceName(manifest, fn.function, env);
    const { version } = await publishFunction(ctx, { manifest, release, env, fn, def, instance }, (detail) =>
      meta(fn.function, detail),
    );
    versions[fn.function] = version.version;
  }
  const move = async (role: 'live' | 'smoke'): Promise<void> => {
    for (const [fn, version] of Object.entries(versions)) {
      await pointAlias(
        ctx,
        instanceName(manifest, fn, env),
        aliasName(manifest, env, role),
        version,
        meta(fn, { role }),
      );
    }
  };
  for (const fn of (await options.warm?.(versions)) ?? []) delete versions[fn];
  let smoke: SmokeResult[] = [];
  if (options.smoke === true && manifest.smoke.length > 0) {
    await move('smoke');
    const gateways = new SmokeGateways({ provider: ctx.provider });
    try {
      smoke = await runSmokeTests({ provider: ctx.provider, gateways, appDir: ctx.loaded.appDir }, manifest, env);
    } finally {
      await gateways.close();
    }
    if (smoke.some((result) => !result.ok)) return { versions, smoke, live: false };
  }
  await move('live');
  return { versions, smoke, live: true };
}
