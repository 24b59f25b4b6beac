/**
 * Versions, aliases, the ledger and what each environment runs, read from the platform where it
 * holds them (aws: Lambda is the truth and the SQLite tables hold none of it), plus what the
 * provider checks of its own infrastructure (stacks, bindings). A problem names what is wrong
 * and the command that puts it right.
 */
import type { Manifest } from '../../manifest/index.js';
import type { AuditedEnvironment, PlatformAudit } from '../../providers/index.js';
import type { VersionRecord } from '../../state/index.js';
import type { EnvironmentProgress, PromotionState } from '../journal.js';
import { readPlatform, type AliasSlot, type PlatformContext, type PlatformView } from './platform-view.js';
import { aliasLedgerProblem, check, mixedReleases, type ControlPlaneChecks, type DoctorCheck } from './report.js';

export async function platformChecks(ctx: PlatformContext, busy: boolean): Promise<ControlPlaneChecks> {
  const view = await readPlatform(ctx);
  const liveRelease = (env: string) => releaseLiveIn(ctx, env);
  const audits = (await ctx.provider.audit?.(auditedEnvironments(ctx, view))) ?? [];
  return {
    versions: versions(view, liveRelease),
    aliases: aliases(view),
    ledger: ledger(view, liveRelease),
    environments: environments(ctx, view, busy),
    platform: audits.map(fromAudit),
  };
}

/**
 * Invariants 1 and 2: every version was published by Stagecraft (its description names its
 * release and artifact), the release is known, and the code the platform runs is that artifact.
 */
function versions(view: PlatformView, liveRelease: LiveRelease): DoctorCheck {
  const problems: string[] = [];
  let count = 0;
  for (const [instance, { function: fn, versions: published }] of view.instances) {
    for (const version of published) {
      count++;
      const problem = versionProblem(view, fn, version);
      if (problem)
        problems.push(
          `${instance} v${version.version}: ${problem}; ${cleanUp(view, instance, version.version, liveRelease)}`,
        );
    }
  }
  return check(
    'versions',
    problems,
    `${count} version(s) run their release's artifact`,
    "versions run code that is not their release's artifact, or were published outside Stagecraft",
  );
}

function versionProblem(view: PlatformView, fn: string, version: VersionRecord): string | undefined {
  if (version.releaseId === '')
    return 'its description carries no Stagecraft metadata: it was published outside Stagecraft';
  const release = view.release(version.releaseId);
  if (!release) return `names release ${version.releaseId}, which the state does not know`;
  if (fn !== '' && version.function !== fn) return `says it is ${version.function}, but the instance runs ${fn}`;
  const artifact = release.functions.find((candidate) => candidate.function === version.function);
  if (!artifact) return `names function ${version.function}, which release ${release.id} does not build`;
  if (artifact.sha256 !== version.sha256) {
    return `its code (sha256 ${version.sha256.slice(0, 12) || 'unknown'}) is not the artifact of ${release.id} ${version.function} (${artifact.sha256.slice(0, 12)}): it was changed outside Stagecraft`;
  }
  return undefined;
}

/** What to do with a version that must not run: move the aliases on it back, then delete it. */
function cleanUp(view: PlatformView, instance: string, version: number, liveRelease: LiveRelease): string {
  const remove = `\`aws lambda delete-function --function-name ${instance} --qualifier ${version}\``;
  const users = view.aliases.filter(
    (slot) =>
      slot.instance === instance && (slot.current?.version === version || slot.current?.extra?.version === version),
  );
  if (users.length === 0) return `nothing points at it: delete it with ${remove}`;
  const moves = users.map((slot) => putBack(view, slot, liveRelease) ?? `move ${slot.alias} off it`);
  return `${users.map((slot) => slot.alias).join(' and ')} point at it: ${moves.join(', ')}, then delete it with ${remove}`;
}

/** Invariant 3: aliases point at existing versions; a traffic split names another version with a weight within (0, 1). */
function aliases(view: PlatformView): DoctorCheck {
  const problems: string[] = [];
  for (const slot of view.aliases) {
    const alias = slot.current;
    if (!alias) continue;
    const exists = (number: number) => view.version(slot.instance, number) !== undefined;
    const problem = !exists(alias.version)
      ? 'points at a missing version'
      : alias.extra && !exists(alias.extra.version)
        ? 'splits traffic with a missing version'
        : alias.extra && !(alias.extra.weight > 0 && alias.extra.weight < 1)
          ? 'has a traffic weight outside (0, 1)'
          : alias.extra && alias.extra.version === alias.version
            ? 'splits traffic with its own version'
            : undefined;
    if (problem) problems.push(`${slot.instance} ${slot.alias} → v${alias.version}: ${problem}`);
  }
  return check('aliases', problems, 'every alias points at an existing version', 'aliases point at missing versions');
}

/** Invariant 4: every alias is where its last ledger record says; anything else was done outside Stagecraft. */
function ledger(view: PlatformView, liveRelease: LiveRelease): DoctorCheck {
  const problems: string[] = [];
  for (const slot of view.aliases) {
    const { current, recorded } = slot;
    const moved = recorded?.kind === 'alias.moved' ? recorded : undefined;
    const revision = typeof moved?.detail['revision'] === 'number' ? moved.detail['revision'] : null;
    if (moved && current && current.version === moved.version && current.revision === revision) continue;
    if (!moved && !current) continue;
    const problem = aliasLedgerProblem(
      slot.instance,
      slot.alias,
      current ? { version: current.version, revision: current.revision } : null,
      recorded ? { version: moved ? moved.version : null, revision, seq: recorded.seq } : null,
    );
    const fix =
      current && !moved
        ? `it was made outside Stagecraft: \`aws lambda delete-alias --function-name ${slot.instance} --name ${slot.alias}\``
        : current?.version === moved?.version
          ? undefined // routing is as recorded; only its description changed
          : putBack(view, slot, liveRelease);
    problems.push(fix ? `${problem}; ${fix}` : problem);
  }
  return check(
    'ledger',
    problems,
    'every alias is where its last ledger record says',
    'aliases were moved or deleted outside Stagecraft: put them back as each line says',
  );
}

/** The command that brings an alias back to its last recorded version: a rollback for `live`, a deploy otherwise. */
function putBack(view: PlatformView, slot: AliasSlot, liveRelease: LiveRelease): string | undefined {
  const recorded = slot.recorded?.kind === 'alias.moved' ? slot.recorded : undefined;
  if (!recorded || recorded.version === null || slot.environment === '') return undefined;
  if (slot.role === 'live' && slot.current) {
    return `\`stagecraft rollback ${slot.environment} --function ${slot.function} --to ${recorded.version}\` points it back at v${recorded.version}`;
  }
  // The release live there now, whose deploy makes every alias again; the alias's own last move may
  // be an older release's (a function unchanged since keeps that release's version on Lambda).
  const release =
    liveRelease(slot.environment) ?? recorded.releaseId ?? view.version(slot.instance, recorded.version)?.releaseId;
  return release ? `\`stagecraft deploy ${slot.environment} --release ${release}\` points it again` : undefined;
}

/** With no promotion under way, each environment runs one release across its functions. */
function environments(ctx: PlatformContext, view: PlatformView, busy: boolean): DoctorCheck {
  const problems: string[] = [];
  if (!busy) {
    for (const { name: env } of ctx.loaded.manifest.environments) {
      const slots = view.aliases.filter((slot) => slot.environment === env && slot.role === 'live');
      const releases = new Set(slots.flatMap((slot) => releaseOf(view, slot) ?? []));
      if (releases.size > 1 && !wentLiveTogether(ctx, env, slots))
        problems.push(`${env}: live runs ${[...releases].join(' and ')} at once`);
    }
  }
  return mixedReleases(problems);
}

/** What the provider needs to judge its own infrastructure: where Stagecraft deployed, and which releases run there. */
function auditedEnvironments(ctx: PlatformContext, view: PlatformView): AuditedEnvironment[] {
  return ctx.loaded.manifest.environments.map(({ name }) => {
    const slots = view.aliases.filter((slot) => slot.environment === name && slot.current);
    const releases = new Map<string, Manifest>();
    const live: Record<string, Manifest> = {};
    for (const slot of slots) {
      for (const number of [slot.current?.version, slot.current?.extra?.version]) {
        const release = view.release(view.version(slot.instance, number)?.releaseId ?? '');
        if (!release) continue;
        releases.set(release.id, release.manifest);
        if (slot.role === 'live' && number === slot.current?.version) live[slot.function] = release.manifest;
      }
    }
    const deployed =
      slots.length > 0 ||
      view.ledger.some(
        (entry) =>
          entry.environment === name &&
          (entry.kind.startsWith('stack.') || entry.kind === 'version.published' || entry.kind === 'alias.moved'),
      );
    return { name, deployed, live, releases: [...releases.values()] };
  });
}

/**
 * Whether `live` is where the newest promotion that went live in `env` put it: Lambda publishes no new
 * version of a function whose code and config a release left unchanged, so one release may run
 * versions that earlier releases published.
 */
function wentLiveTogether(ctx: PlatformContext, env: string, slots: AliasSlot[]): boolean {
  const published = newestLive(ctx, env)?.progress.published;
  return (
    published !== undefined &&
    slots.every((slot) => !slot.current || (!slot.current.extra && published[slot.function] === slot.current.version))
  );
}

type LiveRelease = (env: string) => string | undefined;

/** The newest promotion or deploy that went live in `env`, per its journal. */
function newestLive(
  ctx: PlatformContext,
  env: string,
): { releaseId: string; progress: EnvironmentProgress } | undefined {
  for (const record of ctx.store.promotions.list<PromotionState>()) {
    const progress = record.state.environments.find((candidate) => candidate.name === env && candidate.step === 'live');
    if (progress) return { releaseId: record.releaseId, progress };
  }
  return undefined;
}

function releaseLiveIn(ctx: PlatformContext, env: string): string | undefined {
  return newestLive(ctx, env)?.releaseId;
}

function releaseOf(view: PlatformView, slot: AliasSlot): string | undefined {
  return view.version(slot.instance, slot.current?.version)?.releaseId || undefined;
}

function fromAudit(audit: PlatformAudit): DoctorCheck {
  if (audit.failures.length > 0)
    return check(audit.name, [...audit.failures, ...audit.warnings], audit.ok, audit.failed);
  return check(audit.name, audit.warnings, audit.ok, audit.warned, 'warn');
}
