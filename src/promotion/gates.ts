/**
 * The gates between an environment's tests and its `live`: the soak time of the environment
 * before, the manual approval, and the move of `live` itself (the traffic gate).
 */
import { aliasName, formatDuration, instanceName } from '../manifest/index.js';
import type { VersionRecord } from '../state/index.js';
import { eachConcurrently } from './concurrent.js';
import type { EnvironmentProgress, PromotionState } from './journal.js';
import { gateOf, type RunScope } from './run-scope.js';
import { shiftTraffic } from './shift.js';

/** When this release became live in `env` (every function's `live` on one of its versions), in ms; undefined if it is not. */
export async function liveSince(scope: RunScope, env: string): Promise<number | undefined> {
  const { provider } = scope.ctx;
  const times = await eachConcurrently(scope.release.functions, async (fn) => {
    const instance = instanceName(scope.manifest, fn.function, env);
    const alias = await provider.getAlias(instance, aliasName(scope.manifest, env, 'live'));
    if (!alias || alias.extra) return undefined;
    const version = provider.getVersion
      ? await provider.getVersion(instance, alias.version)
      : (await provider.listVersions(instance)).find((candidate) => candidate.version === alias.version);
    if (!version || !ofRelease(scope, env, fn, version)) return undefined;
    return Date.parse(alias.updatedAt);
  });
  return times.every((time): time is number => time !== undefined) ? Math.max(0, ...times) : undefined;
}

/**
 * Whether `version` is this release's in `env`: published by it, or (where a platform publishes no
 * new version when code and config are unchanged, as Lambda does) the one this release's own
 * promotion put live there, per its journal.
 */
function ofRelease(
  scope: RunScope,
  env: string,
  fn: RunScope['release']['functions'][number],
  version: VersionRecord,
): boolean {
  if (version.releaseId === scope.release.id) return true;
  if (version.sha256 !== fn.sha256) return false;
  return scope.ctx.store.promotions
    .ofRelease<PromotionState>(scope.release.id)
    .some((record) =>
      record.state.environments.some(
        (progress) =>
          progress.name === env && progress.step === 'live' && progress.published?.[fn.function] === version.version,
      ),
    );
}

/** True (and the promotion refused) when `previous` has a soak time its release has not yet served. */
export async function soakBlocks(scope: RunScope, previous: string, progress: EnvironmentProgress): Promise<boolean> {
  const { ctx, journal } = scope;
  const soak = gateOf(scope, previous).soak;
  if (soak === undefined) return false;
  const since = await liveSince(scope, previous);
  const now = ctx.store.now().getTime();
  const eligible = since === undefined ? undefined : since + soak;
  if (eligible !== undefined && eligible <= now) return false;
  const remainingMs = eligible === undefined ? soak : eligible - now;
  const eligibleAt = new Date(now + remainingMs).toISOString();
  const { state } = journal;
  if (state.skipSoak !== undefined) {
    progress.soakSkipped = { reason: state.skipSoak, by: ctx.actor };
    journal.append(previous, '', 'soak.skipped', { soak: formatDuration(soak), remainingMs, reason: state.skipSoak });
    ctx.report.warn(
      `${previous}: soak of ${formatDuration(soak)} skipped (${formatDuration(remainingMs)} left): ${state.skipSoak}`,
    );
    return false;
  }
  state.refusal = {
    environment: previous,
    remainingMs,
    eligibleAt,
    reason: `${scope.release.id} must be live in ${previous} for ${formatDuration(soak)} before it goes further: ${formatDuration(remainingMs)} left, eligible at ${eligibleAt}`,
  };
  journal.finish('refused', 'promotion.refused', { reason: state.refusal.reason });
  ctx.report.warn(`${state.refusal.reason} (or pass --skip-soak --reason "…")`);
  return true;
}

/** Pauses the promotion at `env`'s manual gate unless it was approved; true when it paused. */
export function approvalPauses(scope: RunScope, progress: EnvironmentProgress): boolean {
  const env = progress.name;
  if (scope.journal.record.kind !== 'promote' || gateOf(scope, env).approval !== 'manual' || progress.approval)
    return false;
  progress.step = 'awaiting-approval';
  scope.journal.recordAs('awaiting-approval', env, 'promotion.paused');
  scope.ctx.report.warn(
    `${env} needs a manual approval: ${scope.release.id} is on smoke there and passed its tests; \`stagecraft approve ${env}\` moves live and continues`,
  );
  return true;
}

/** Moves `live` of every function to the published versions, as the environment's deployment policy says. */
export async function trafficGate(scope: RunScope, progress: EnvironmentProgress): Promise<void> {
  await scope.ensureHeld();
  await shiftTraffic(scope, progress);
}
