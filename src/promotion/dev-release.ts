/**
 * Releases `stagecraft dev` builds are marked in the ledger; one built from uncommitted changes
 * stays in the developer's environment, while a clean one is promotable like any other.
 */
import { StagecraftError } from '../errors.js';
import type { Release } from '../state/index.js';
import type { AppContext } from './context.js';

/** The ledger kind that marks a release `dev` built. */
export const DEV_RELEASE_KIND = 'release.dev-loop';

/** Marks `release` as built by the dev loop, once; promotable later only when its tree was clean. */
export function markDevRelease(ctx: AppContext, release: Release, env: string): void {
  const marked = ctx.store.ledger
    .list({ kind: DEV_RELEASE_KIND, environment: env })
    .some((entry) => entry.releaseId === release.id);
  if (marked) return;
  ctx.store.transaction(() =>
    ctx.store.ledger.append({
      kind: DEV_RELEASE_KIND,
      operation: 'dev',
      actor: ctx.actor,
      environment: env,
      releaseId: release.id,
      commit: release.commit,
      detail: { dirty: release.dirty, promotable: !release.dirty },
    }),
  );
}

/** Refuses a dirty release the dev loop built: only what a commit names goes down the chain. */
export function requirePromotable(ctx: Pick<AppContext, 'store'>, release: Release): void {
  if (!release.dirty) return;
  if (!ctx.store.ledger.list({ kind: DEV_RELEASE_KIND }).some((entry) => entry.releaseId === release.id)) return;
  throw new StagecraftError(
    'ARGUMENT_INVALID',
    `${release.id} was built by \`stagecraft dev\` from uncommitted changes; it stays in the developer's environment`,
    {
      hint: 'commit, then `stagecraft build` and promote that release',
    },
  );
}
