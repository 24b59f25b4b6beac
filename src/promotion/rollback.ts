/**
 * `rollback <env> [--to R|VERSION]`: point `live` back, under the lock, recorded. By default
 * each function goes back to the version `live` pointed at before its last move; `--to r7`
 * to the version of release r7 published in this environment; `--to 3` to version 3 (of one
 * function, named with `--function` when the app has more than one).
 */
import { StagecraftError } from '../errors.js';
import { aliasName, instanceName } from '../manifest/index.js';
import type { Release } from '../state/index.js';
import { pointAlias } from './aliases.js';
import type { AppContext } from './context.js';
import { withLock } from './locked.js';
import type { PromotionState } from './journal.js';
import { previousLive } from './live-history.js';
import { requireEnvironment, settle } from './promote.js';

export interface RollbackOptions {
  to?: string;
  function?: string;
  reason?: string;
}

export interface RollbackResult {
  environment: string;
  functions: { function: string; from: number; to: number; release: string; moved: boolean }[];
}

export async function rollback(ctx: AppContext, env: string, options: RollbackOptions = {}): Promise<RollbackResult> {
  const { manifest } = ctx.loaded;
  requireEnvironment(manifest, env);
  const functions = options.function === undefined ? Object.keys(manifest.functions) : [options.function];
  if (options.function !== undefined && !(options.function in manifest.functions)) {
    throw new StagecraftError('FUNCTION_UNKNOWN', `no function "${options.function}" in ${manifest.app}`, {
      hint: `functions: ${Object.keys(manifest.functions).join(', ')}`,
    });
  }
  const versionNumber = options.to !== undefined && /^\d+$/.test(options.to) ? Number(options.to) : undefined;
  if (versionNumber !== undefined && functions.length > 1) {
    throw new StagecraftError(
      'ARGUMENT_INVALID',
      `--to ${options.to} is a version number, and each function numbers its versions itself`,
      {
        hint: 'name the function with --function, or give a release (--to r7)',
      },
    );
  }
  const release: Release | undefined =
    options.to !== undefined && versionNumber === undefined ? ctx.store.releases.find(options.to) : undefined;

  return withLock(ctx, 'rollback', async (ensureHeld) => {
    // An interrupted promotion is refused rather than settled here: settling it may roll back
    // already, and this rollback would then go one step too far.
    const open = ctx.store.promotions.unfinished<PromotionState>();
    const interrupted = open.find((record) => record.status !== 'awaiting-approval');
    if (interrupted) {
      throw new StagecraftError(
        'PROMOTION_UNSETTLED',
        `${interrupted.id} (${interrupted.kind} of ${interrupted.releaseId}) was interrupted and is not settled`,
        {
          hint: 'run `stagecraft promote --resume` first: it finishes the promotion, or rolls it back if it fails; then roll back what is still wrong',
        },
      );
    }
    // Work out every target before anything changes: a rollback refused here leaves a paused promotion waiting (invariant 8).
    const plans = await planRollback(ctx, env, functions, { ...options, versionNumber, release });
    // A paused promotion could later be approved over this rollback: it is superseded.
    for (const paused of open) await settle(ctx, paused, `\`rollback ${env}\``, ensureHeld);
    const result: RollbackResult = { environment: env, functions: [] };
    for (const plan of plans) {
      await ensureHeld();
      const moved = await pointAlias(ctx, plan.instance, plan.alias, plan.to, {
        operation: 'rollback',
        actor: ctx.actor,
        environment: env,
        function: plan.fn,
        releaseId: plan.releaseId,
        detail: { role: 'live', from: plan.from, ...(options.reason ? { reason: options.reason } : {}) },
      });
      result.functions.push({ function: plan.fn, from: plan.from, to: plan.to, release: plan.releaseId ?? '', moved });
      ctx.report.progress(
        `${env}: ${plan.fn} live ${moved ? `v${plan.from} → v${plan.to}` : `already on v${plan.to}`}`,
      );
    }
    return result;
  });
}

interface Plan {
  fn: string;
  instance: string;
  alias: string;
  from: number;
  to: number;
  releaseId: string | null;
}

async function planRollback(
  ctx: AppContext,
  env: string,
  functions: string[],
  options: RollbackOptions & { versionNumber: number | undefined; release: Release | undefined },
): Promise<Plan[]> {
  const { manifest } = ctx.loaded;
  const { versionNumber, release } = options;
  const plans: Plan[] = [];
  for (const fn of functions) {
    const instance = instanceName(manifest, fn, env);
    const alias = aliasName(manifest, env, 'live');
    const current = await ctx.provider.getAlias(instance, alias);
    if (!current) {
      if (options.function !== undefined)
        throw new StagecraftError('ALIAS_NOT_FOUND', `${fn} has nothing live in ${env}`, {
          hint: `deploy it first: \`stagecraft deploy ${env}\``,
        });
      continue;
    }
    const versions = await ctx.provider.listVersions(instance);
    let to: number | undefined;
    if (versionNumber !== undefined) {
      to = versions.find((version) => version.version === versionNumber)?.version;
      if (to === undefined)
        throw new StagecraftError('VERSION_NOT_FOUND', `${instance} has no version ${versionNumber}`, {
          hint: `versions: ${versions.map((version) => version.version).join(', ') || 'none'}`,
        });
    } else if (release) {
      to = versions.filter((version) => version.releaseId === release.id).at(-1)?.version;
      if (to === undefined)
        throw new StagecraftError('RELEASE_NOT_FOUND', `${release.id} was never published to ${env} (${fn})`, {
          hint: 'roll back to a release that ran there; `stagecraft history --env ' + env + '` lists them',
        });
    } else {
      const moves = ctx.store.ledger
        .list({ environment: env, function: fn })
        .filter(
          (entry) =>
            (entry.kind === 'alias.moved' || entry.kind === 'alias.deleted') &&
            entry.instance === instance &&
            entry.alias === alias,
        );
      const previous = previousLive(moves, current.version);
      if ('why' in previous)
        throw new StagecraftError('ARGUMENT_INVALID', `${fn} in ${env} cannot go further back: ${previous.why}`, {
          hint: `give a target with --to (a release: \`stagecraft history --env ${env}\` lists them)`,
        });
      to = previous.to;
    }
    plans.push({
      fn,
      instance,
      alias,
      from: current.version,
      to,
      releaseId: versions.find((version) => version.version === to)?.releaseId ?? null,
    });
  }
  if (plans.length === 0)
    throw new StagecraftError('ALIAS_NOT_FOUND', `nothing is live in ${env}`, {
      hint: `deploy first: \`stagecraft deploy ${env}\``,
    });
  return plans;
}
