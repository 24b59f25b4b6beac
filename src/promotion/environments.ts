/**
 * Environments per developer and branch: `deploy --ephemeral` makes (or renews) `dev-<who>-<branch>`
 * as a copy of the manifest's `ephemeral.from` and deploys a release to it; `destroy` removes one
 * environment's instances, stack and data through the provider (artifacts and the ledger stay);
 * `gc` destroys the ephemeral environments whose time is up. Promotions never include them.
 */
import { gitBranch } from '../release/index.js';
import { StagecraftError } from '../errors.js';
import { ephemeralEnvironmentName, instanceName, withEphemeral } from '../manifest/index.js';
import type { EphemeralEnvironment } from '../state/index.js';
import type { AppContext } from './context.js';
import type { PromotionOutcome } from './engine.js';
import type { PromotionState } from './journal.js';
import { withLock } from './locked.js';
import { checkConfig, requireEnvironment, resolveRelease, start } from './promote.js';

export interface EphemeralOptions {
  /** `who/branch`; default the acting user and the checked-out git branch. */
  name?: string;
  release?: string;
  /** How long the environment lives from this deploy; default the manifest's `ephemeral.ttl`. */
  ttlMs?: number;
}

export interface EphemeralDeploy {
  environment: EphemeralEnvironment;
  outcome: PromotionOutcome;
}

export async function deployEphemeral(ctx: AppContext, options: EphemeralOptions = {}): Promise<EphemeralDeploy> {
  const { manifest } = ctx.loaded;
  const spec = manifest.ephemeral;
  if (!spec) {
    throw new StagecraftError('ARGUMENT_INVALID', `${manifest.app} declares no ephemeral environments`, {
      hint: 'add `ephemeral: { from: dev, ttl: 72h }` to stagecraft.yml (the environment they copy, and how long they live)',
    });
  }
  const { who, branch } = owner(ctx, options.name);
  const name = ephemeralEnvironmentName(who, branch);
  if (manifest.environments.some((env) => env.name === name)) {
    throw new StagecraftError('ARGUMENT_INVALID', `${name} is an environment of the chain, not an ephemeral one`, {
      hint: 'give another --name who/branch',
    });
  }
  const release = await resolveRelease(ctx, options.release);
  requireEnvironment(release.manifest, spec.from);
  // Everything the deploy needs must resolve before the environment is recorded: invalid input changes nothing.
  const ttlMs = options.ttlMs ?? spec.ttl;
  const planned = [...ctx.store.environments.list().filter((env) => env.name !== name), { name, from: spec.from }];
  checkConfig(ctx, release, [name], planned);
  const environment = ctx.store.transaction(() =>
    ctx.store.environments.upsert({ name, owner: who, branch, from: spec.from, createdBy: ctx.actor, ttlMs }),
  );
  ctx.report.progress(
    `${name}: ephemeral environment of ${who} for ${branch}, a copy of ${spec.from}, expires ${environment.expiresAt}`,
  );
  return { environment, outcome: await start(ctx, 'deploy', release, [name]) };
}

function owner(ctx: AppContext, name: string | undefined): { who: string; branch: string } {
  if (name !== undefined) {
    const slash = name.indexOf('/');
    const who = name.slice(0, slash).trim();
    const branch = name.slice(slash + 1).trim();
    if (slash < 0 || !who || !branch) {
      throw new StagecraftError('ARGUMENT_INVALID', `--name "${name}" is not <who>/<branch>`, {
        hint: 'e.g. --name alice/login',
      });
    }
    return { who, branch };
  }
  const branch = gitBranch(ctx.loaded.appDir);
  if (!branch)
    throw new StagecraftError('ARGUMENT_INVALID', 'no git branch is checked out here to name the environment after', {
      hint: 'give one: --name <who>/<branch>',
    });
  return { who: ctx.actor, branch };
}

export interface DestroyOptions {
  /** Needed for an environment of the chain. */
  force?: boolean;
  /** The confirmation (typed by a person, or `--yes` in CI); needed for an environment of the chain. */
  confirmed?: boolean;
}

export interface DestroyResult {
  environment: string;
  ephemeral: boolean;
  removed: string[];
}

export async function destroy(ctx: AppContext, env: string, options: DestroyOptions = {}): Promise<DestroyResult> {
  const ephemeral = ctx.store.environments.get(env);
  if (!ephemeral) {
    requireEnvironment(ctx.loaded.manifest, env);
    if (!options.force || !options.confirmed) {
      throw new StagecraftError(
        'DESTROY_REFUSED',
        `${env} is an environment of the promotion chain; destroying it needs --force and a confirmation`,
        {
          hint: `\`stagecraft destroy ${env} --force\` asks you to type its name; in CI add --yes. Artifacts and the ledger stay, and \`stagecraft promote --release R\` brings it back`,
        },
      );
    }
  }
  const manifest = withEphemeral(ctx.loaded.manifest, ctx.store.environments.list());
  return withLock(ctx, 'destroy', async (ensureHeld) => {
    const open = ctx.store.promotions
      .unfinished<PromotionState>()
      .find((record) => record.state.environments.some((progress) => progress.name === env));
    if (open) {
      throw new StagecraftError(
        'PROMOTION_UNSETTLED',
        `${open.id} (${open.kind} of ${open.releaseId}, ${open.status}) includes ${env}`,
        {
          hint: 'let it finish, or settle it (`stagecraft promote --resume`, or a new promote) first',
        },
      );
    }
    await ensureHeld();
    const change = { operation: 'destroy', actor: ctx.actor, environment: env };
    const removed = await ctx.provider.destroyEnvironment(
      {
        app: manifest.app,
        environment: env,
        strategy: manifest.strategy,
        resources: manifest.resources,
        functions: Object.keys(manifest.functions).map((fn) => ({
          function: fn,
          instance: instanceName(manifest, fn, env),
        })),
      },
      change,
    );
    ctx.store.transaction(() => {
      ctx.store.environments.remove(env);
      ctx.store.ledger.append({
        ...change,
        kind: 'environment.destroyed',
        detail: {
          ephemeral: ephemeral !== undefined,
          removed,
          ...(ephemeral ? { owner: ephemeral.owner, branch: ephemeral.branch } : {}),
        },
      });
    });
    for (const line of removed) ctx.report.progress(`${env}: removed ${line}`);
    return { environment: env, ephemeral: ephemeral !== undefined, removed };
  });
}

export interface GcResult {
  dryRun: boolean;
  expired: EphemeralEnvironment[];
  kept: EphemeralEnvironment[];
}

/** Destroys every ephemeral environment whose expiry has passed (only lists them with `dryRun`). */
export async function gc(ctx: AppContext, options: { dryRun?: boolean } = {}): Promise<GcResult> {
  const now = ctx.store.now().getTime();
  const all = ctx.store.environments.list();
  const expired = all.filter((env) => Date.parse(env.expiresAt) <= now);
  const kept = all.filter((env) => Date.parse(env.expiresAt) > now);
  if (!options.dryRun) for (const env of expired) await destroy(ctx, env.name);
  return { dryRun: options.dryRun === true, expired, kept };
}
