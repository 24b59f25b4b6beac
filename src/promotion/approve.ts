/**
 * `approve <env> [--release R]`: opens the manual gate of `env`. Without `--release`, the gate
 * a paused promotion waits at; with it, as a CI pipeline's button does days after its build,
 * exactly release R: the paused promotion must be R's, or, when none waits here (each CI step
 * runs on a fresh runner), R must be live in the environment before `env` and goes on from there.
 */
import { StagecraftError } from '../errors.js';
import { aliasName, instanceName } from '../manifest/index.js';
import type { Release } from '../state/index.js';
import type { AppContext } from './context.js';
import { PromotionRun, type PromotionOutcome } from './engine.js';
import type { PromotionState } from './journal.js';
import { withLock } from './locked.js';
import { checkConfig, pausedAt, requireEnvironment, resolveRelease, start } from './promote.js';

export async function approve(
  ctx: AppContext,
  env: string,
  by: string,
  releaseRef?: string,
): Promise<PromotionOutcome> {
  requireEnvironment(ctx.loaded.manifest, env);
  const release = releaseRef === undefined ? undefined : await resolveRelease(ctx, releaseRef);
  const pausedHere = await withLock(ctx, 'approve', async (ensureHeld) => {
    const open = ctx.store.promotions.unfinished<PromotionState>();
    const interrupted = open.find((record) => record.status !== 'awaiting-approval');
    if (interrupted) {
      throw new StagecraftError(
        'PROMOTION_UNSETTLED',
        `${interrupted.id} was interrupted (${interrupted.status}) and must be settled first`,
        { hint: 'run `stagecraft promote --resume`' },
      );
    }
    const paused = open.find((record) => record.status === 'awaiting-approval');
    if (!paused || pausedAt(paused) !== env) {
      if (release) return undefined;
      throw new StagecraftError('APPROVAL_NOT_WAITING', `no promotion is waiting for an approval in ${env}`, {
        hint: paused
          ? `${paused.id} waits in ${pausedAt(paused)}: \`stagecraft approve ${pausedAt(paused)}\``
          : '`stagecraft status` shows what is waiting',
      });
    }
    if (release && ctx.store.releases.find(paused.releaseId).digest !== release.digest) {
      throw new StagecraftError(
        'APPROVAL_REFUSED',
        `the promotion waiting in ${env} is of ${paused.releaseId}, not ${release.id}`,
        {
          hint: `approve ${paused.releaseId} (\`stagecraft approve ${env} --release ${paused.releaseId}\`), or promote ${release.id} again`,
        },
      );
    }
    const run = new PromotionRun(ctx, paused, ensureHeld);
    // What lies ahead must resolve before the gate opens: a missing ${env:…} here is exit 2 with nothing moved.
    checkConfig(ctx, ctx.store.releases.find(paused.releaseId), run.remaining());
    run.approve(by);
    ctx.report.progress(`${env}: approved by ${by}; continuing ${paused.id}`);
    return run.run();
  });
  if (pausedHere || !release) return pausedHere as PromotionOutcome;
  return approveRelease(ctx, env, by, release);
}

/** No promotion waits here: `release` goes on into `env` from the environment before it, where it must be live. */
async function approveRelease(ctx: AppContext, env: string, by: string, release: Release): Promise<PromotionOutcome> {
  const chain = ctx.loaded.manifest.environments;
  const index = chain.findIndex((candidate) => candidate.name === env);
  if (chain[index]?.approval !== 'manual') {
    throw new StagecraftError('ARGUMENT_INVALID', `${env} has no manual gate to approve`, {
      hint: `promote to it: \`stagecraft promote --release ${release.id} --to ${env}\``,
    });
  }
  requireEnvironment(release.manifest, env);
  const previous = chain[index - 1]?.name;
  if (previous !== undefined) {
    const running = await liveRelease(ctx, release, previous);
    if (running !== release.id) {
      throw new StagecraftError(
        'APPROVAL_REFUSED',
        `${previous} runs ${running ?? 'no single release'}, not ${release.id}: ${release.id} is no longer the release waiting for ${env}`,
        {
          hint: running
            ? `the ${env} step of the pipeline that built ${running} approves it; or promote ${release.id} again first`
            : `promote ${release.id} to ${previous} first`,
        },
      );
    }
  }
  ctx.report.progress(`${env}: approved by ${by}; promoting ${release.id}${previous ? ` from ${previous}` : ''}`);
  // The previous environment is passed (the release is live there) and its soak still applies (exit 3 with the time left).
  return start(ctx, 'promote', release, previous === undefined ? [env] : [previous, env], undefined, by);
}

/** The release every function's `live` runs in `env` (by the versions' own record), or undefined when they differ or none is live. */
async function liveRelease(ctx: AppContext, release: Release, env: string): Promise<string | undefined> {
  const manifest = ctx.loaded.manifest;
  const found = new Set<string | undefined>();
  for (const fn of release.functions) {
    const instance = instanceName(manifest, fn.function, env);
    const alias = await ctx.provider.getAlias(instance, aliasName(manifest, env, 'live'));
    const version = alias
      ? (await ctx.provider.listVersions(instance)).find((candidate) => candidate.version === alias.version)
      : undefined;
    found.add(alias?.extra ? undefined : version?.releaseId);
  }
  return found.size === 1 ? [...found][0] : undefined;
}
