/**
 * `deploy <env>` may not skip the chain: an environment behind a manual gate, or one whose
 * predecessor has not run the release, is protected (as CI systems protect environments).
 * `--force --reason …` passes, recorded in the ledger with the actor.
 */
import { StagecraftError } from '../errors.js';
import { aliasName, instanceName } from '../manifest/index.js';
import type { Release } from '../state/index.js';
import type { AppContext } from './context.js';
import type { PromotionState } from './journal.js';

export interface DeployForce {
  reason: string;
}

/** Throws DEPLOY_PROTECTED (exit 3) unless forced; a forced deploy past a protection is recorded. */
export async function checkDeployGate(
  ctx: AppContext,
  release: Release,
  env: string,
  force: DeployForce | undefined,
): Promise<void> {
  const blocks = await protections(ctx, release, env);
  if (blocks.length === 0) return;
  if (!force) {
    throw new StagecraftError('DEPLOY_PROTECTED', `${env} is protected: ${blocks.join('; ')}`, {
      hint: `promote through the chain (\`stagecraft promote --to ${env}\`), or pass --force --reason "…" (recorded in the ledger)`,
    });
  }
  ctx.store.transaction(() =>
    ctx.store.ledger.append({
      kind: 'deploy.forced',
      operation: 'deploy',
      actor: ctx.actor,
      environment: env,
      releaseId: release.id,
      commit: release.commit,
      detail: { reason: force.reason, bypassed: blocks },
    }),
  );
  ctx.report.warn(
    `${env}: deploy of ${release.id} forced by ${ctx.actor}: ${force.reason} (bypassed: ${blocks.join('; ')})`,
  );
}

async function protections(ctx: AppContext, release: Release, env: string): Promise<string[]> {
  const chain = ctx.loaded.manifest.environments;
  const index = chain.findIndex((candidate) => candidate.name === env);
  const blocks: string[] = [];
  if (chain[index]?.approval === 'manual')
    blocks.push(`${env} needs a manual approval (\`approval: manual\`), which only a promotion asks for`);
  const previous = index > 0 ? chain[index - 1]?.name : undefined;
  if (previous !== undefined && !(await hasRun(ctx, release, previous)))
    blocks.push(`${previous} has not run ${release.id}, and it comes before ${env}`);
  return blocks;
}

/** Whether `live` of every function of the release pointed at one of its versions in `env`, now or before. */
async function hasRun(ctx: AppContext, release: Release, env: string): Promise<boolean> {
  // A journal of this release that went live there: on a platform that keeps an unchanged function's
  // version across releases (Lambda), `live` of that function did not move for this release.
  if (
    ctx.store.promotions
      .ofRelease<PromotionState>(release.id)
      .some((record) => record.state.environments.some((progress) => progress.name === env && progress.step === 'live'))
  )
    return true;
  const live = aliasName(release.manifest, env, 'live');
  const moves = ctx.sharedLedger
    ? await ctx.sharedLedger.list({ environment: env, kind: 'alias.moved' })
    : ctx.store.ledger.list({ environment: env, kind: 'alias.moved' });
  return release.functions.every((fn) => {
    const instance = instanceName(release.manifest, fn.function, env);
    return moves.some((move) => move.instance === instance && move.alias === live && move.releaseId === release.id);
  });
}
