/**
 * `promote` and `deploy` (and, in approve.ts, `approve`): the ways into the promotion engine, each under the app's
 * lock. Before a new promotion starts, what an earlier one left is settled: a promotion whose
 * process died is resumed when the same release and target are asked for again and rolled
 * back otherwise; one paused at a manual gate is superseded.
 */
import { isStagecraftError, StagecraftError } from '../errors.js';
import { resolveConfig, withEphemeral, type EphemeralRef, type Manifest } from '../manifest/index.js';
import type { PromotionKind, PromotionRecord, Release } from '../state/index.js';
import type { AppContext } from './context.js';
import { requirePromotable } from './dev-release.js';
import { checkDeployGate, type DeployForce } from './deploy-gate.js';
import { PromotionRun, type PromotionOutcome } from './engine.js';
import type { PromotionState } from './journal.js';
import { withLock, type EnsureHeld } from './locked.js';

export interface PromoteOptions {
  /** The release (default: the newest build). */
  release?: string;
  /** The last environment to reach (default: the last of the chain). */
  to?: string;
  /** Finish the promotion a crash interrupted, instead of starting one. */
  resume?: boolean;
  /** Pass soak times that would stop this promotion, recording why. */
  skipSoakReason?: string;
}

export async function resolveRelease(
  ctx: Pick<AppContext, 'store' | 'sharedReleases' | 'report'>,
  ref: string | undefined,
): Promise<Release> {
  if (ref !== undefined) {
    try {
      return ctx.store.releases.find(ref);
    } catch (error) {
      const shared =
        ctx.sharedReleases && isStagecraftError(error) && error.code === 'RELEASE_NOT_FOUND'
          ? await importShared(ctx, ref)
          : undefined;
      if (shared) return shared;
      throw error;
    }
  }
  const latest = ctx.store.releases.latest();
  if (!latest)
    throw new StagecraftError('NO_RELEASE', 'there is no release to deploy yet', {
      hint: 'run `stagecraft build` first',
    });
  return latest;
}

/**
 * A release another machine built, found in the shared state by its id there or a digest
 * prefix, recorded here under this machine's numbering (the digest is the same: same inputs,
 * same release). Its artifacts are already in the provider's store, put there by that machine.
 */
async function importShared(
  ctx: Pick<AppContext, 'store' | 'sharedReleases' | 'report'>,
  ref: string,
): Promise<Release | undefined> {
  const text = ref.trim();
  const found = ((await ctx.sharedReleases?.()) ?? []).find(
    (release) => release.id === text || (text.length >= 6 && release.digest.startsWith(text)),
  );
  if (!found) return undefined;
  const { release } = ctx.store.transaction(() =>
    ctx.store.releases.record(
      {
        digest: found.digest,
        manifestDigest: found.manifestDigest,
        manifest: found.manifest,
        commit: found.commit,
        dirty: found.dirty,
        functions: found.functions,
        ...(found.allowedCredentials ? { allowedCredentials: found.allowedCredentials } : {}),
      },
      found.createdBy,
    ),
  );
  ctx.report.progress(`${found.id} was built by another machine; taken from the shared state as ${release.id}`);
  return release;
}

export function requireEnvironment(manifest: Manifest, env: string): void {
  if (!manifest.environments.some((candidate) => candidate.name === env)) {
    throw new StagecraftError('ENVIRONMENT_UNKNOWN', `no environment "${env}" in ${manifest.app}`, {
      hint: `environments: ${manifest.environments.map((candidate) => candidate.name).join(', ')}`,
    });
  }
}

export async function promote(ctx: AppContext, options: PromoteOptions = {}): Promise<PromotionOutcome> {
  if (options.resume && (options.release !== undefined || options.to !== undefined)) {
    throw new StagecraftError(
      'ARGUMENT_INVALID',
      '--resume finishes the interrupted promotion as it was started; it takes no --release or --to',
      { hint: 'run `stagecraft promote --resume` alone' },
    );
  }
  if (options.resume) {
    return withLock(ctx, 'promote', async (ensureHeld) => {
      const open = ctx.store.promotions.unfinished<PromotionState>();
      const interrupted = open.find((record) => record.status !== 'awaiting-approval');
      if (!interrupted) {
        const paused = open.find((record) => record.status === 'awaiting-approval');
        throw new StagecraftError(
          'ARGUMENT_INVALID',
          paused
            ? `${paused.id} is not interrupted: it waits for an approval`
            : 'there is no interrupted promotion to resume',
          {
            hint: paused
              ? `approve it: \`stagecraft approve ${pausedAt(paused)}\``
              : 'start one with `stagecraft promote`',
          },
        );
      }
      ctx.report.progress(
        `resuming ${interrupted.id} (${interrupted.kind} of ${interrupted.releaseId} to ${interrupted.target}, ${interrupted.status})`,
      );
      return resume(ctx, interrupted, ensureHeld, options.skipSoakReason);
    });
  }
  const release = await resolveRelease(ctx, options.release);
  const chain = ctx.loaded.manifest.environments.map((env) => env.name);
  const target = options.to ?? chain[chain.length - 1] ?? '';
  requireEnvironment(ctx.loaded.manifest, target);
  requireEnvironment(release.manifest, target);
  return start(ctx, 'promote', release, chain.slice(0, chain.indexOf(target) + 1), options.skipSoakReason);
}

/**
 * `deploy <env>`: one environment: publish → smoke → tests → live; a failure puts smoke back and leaves live as it
 * was. A protected environment (manual gate, predecessor that has not run the release) needs `force`.
 */
export async function deploy(
  ctx: AppContext,
  env: string,
  releaseRef?: string,
  force?: DeployForce,
): Promise<PromotionOutcome> {
  const release = await resolveRelease(ctx, releaseRef);
  requireEnvironment(ctx.loaded.manifest, env);
  requireEnvironment(release.manifest, env);
  // Invalid input (exit 2) before a refusal (exit 3): a dev-loop release never goes down the chain.
  requirePromotable(ctx, release);
  checkConfig(ctx, release, [env]);
  await checkDeployGate(ctx, release, env, force);
  return start(ctx, 'deploy', release, [env]);
}

/**
 * Resolves every function's config in every environment of the chain before anything changes:
 * a missing `${env:…}` is invalid input (exit 2) and must not surface half-way, after dev moved.
 */
export function checkConfig(
  ctx: AppContext,
  release: Release,
  chain: string[],
  ephemeral: readonly EphemeralRef[] = ctx.store.environments.list(),
): void {
  const manifest = withEphemeral(release.manifest, ephemeral);
  for (const env of chain) {
    // An ephemeral environment resolves its secret references in the environment it copies.
    const secrets = ctx.secrets.forEnvironment(ephemeral.find((entry) => entry.name === env)?.from ?? env);
    for (const fn of release.functions)
      resolveConfig(manifest, env, fn.function, release.id, { env: (name) => ctx.env[name], secret: secrets });
  }
}

/**
 * Starts a promotion of `release` through `chain`. `approvedBy` opens the manual gate of the
 * last environment in advance (`approve <env> --release R` from a pipeline's button): recorded
 * as the approval, in the same transaction as the start.
 */
export async function start(
  ctx: AppContext,
  kind: PromotionKind,
  release: Release,
  chain: string[],
  skipSoak?: string,
  approvedBy?: string,
): Promise<PromotionOutcome> {
  requirePromotable(ctx, release);
  checkConfig(ctx, release, chain);
  return withLock(ctx, kind, async (ensureHeld) => {
    for (const open of ctx.store.promotions.unfinished<PromotionState>()) {
      const sameWork =
        open.status !== 'awaiting-approval' &&
        open.kind === kind &&
        open.releaseId === release.id &&
        open.target === chain[chain.length - 1];
      if (sameWork) {
        ctx.report.progress(`resuming ${open.id}, interrupted before it finished`);
        return resume(ctx, open, ensureHeld, skipSoak);
      }
      await settle(ctx, open, `a new ${kind} of ${release.id}`, ensureHeld);
    }
    const target = chain[chain.length - 1] ?? '';
    const approval = approvedBy === undefined ? undefined : { by: approvedBy, at: ctx.store.now().toISOString() };
    const state: PromotionState = {
      environments: chain.map((name) => ({
        name,
        step: 'pending',
        ...(approval && name === target ? { approval } : {}),
      })),
      ...(skipSoak !== undefined ? { skipSoak } : {}),
    };
    const record = ctx.store.transaction(() => {
      const created = ctx.store.promotions.create({
        kind,
        releaseId: release.id,
        target: chain[chain.length - 1] ?? '',
        startedBy: ctx.actor,
        state,
      });
      ctx.store.ledger.append({
        // No environment: starting changes none, and `history --env prod` must not suggest otherwise.
        kind: 'promotion.started',
        operation: kind,
        actor: ctx.actor,
        releaseId: release.id,
        commit: release.commit,
        detail: {
          promotion: created.id,
          chain,
          target: created.target,
          ...(skipSoak !== undefined ? { skipSoakReason: skipSoak } : {}),
        },
      });
      if (approval) {
        ctx.store.ledger.append({
          kind: 'promotion.approved',
          operation: kind,
          actor: ctx.actor,
          environment: target,
          releaseId: release.id,
          commit: release.commit,
          detail: { promotion: created.id, approvedBy: approval.by },
        });
      }
      return created;
    });
    ctx.report.progress(`${record.id}: ${kind} ${release.id} through ${chain.join(' → ')}`);
    return new PromotionRun(ctx, record, ensureHeld).run();
  });
}

/** Continues an interrupted promotion, after checking the config of what lies ahead (exit 2, nothing moved). */
function resume(
  ctx: AppContext,
  record: PromotionRecord<PromotionState>,
  ensureHeld: EnsureHeld,
  skipSoak: string | undefined,
): Promise<PromotionOutcome> {
  const run = new PromotionRun(ctx, record, ensureHeld);
  checkConfig(ctx, ctx.store.releases.find(record.releaseId), run.remaining());
  run.skipSoak(skipSoak);
  return run.run();
}

/**
 * Ends an unfinished promotion before `what` changes aliases: one paused at a gate is
 * superseded (it could otherwise be approved later over what `what` did); one a crash
 * interrupted is rolled back (or recorded as succeeded, if it had in fact finished).
 */
export async function settle(
  ctx: AppContext,
  open: PromotionRecord<PromotionState>,
  what: string,
  ensureHeld: EnsureHeld,
): Promise<void> {
  const why =
    open.status === 'awaiting-approval'
      ? `superseded by ${what} while it waited for an approval`
      : `interrupted before it finished; settled before ${what}`;
  ctx.report.warn(`${open.id}: ${why}`);
  await new PromotionRun(ctx, open, ensureHeld).abandon(why);
}

export function pausedAt(record: PromotionRecord<PromotionState>): string {
  return record.state.environments.find((env) => env.step === 'awaiting-approval')?.name ?? record.target;
}
