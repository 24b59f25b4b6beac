/**
 * `prune [--keep N] [--yes]`: deletes the function versions nothing could need again, before
 * Lambda's code storage fills up (75 GB a region, https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
 * A version is kept when an alias points at it, when it is its instance's newest (what the next
 * publish compares with), when it belongs to one of the last N releases live in its environment
 * (what `rollback` and `rollback --to` may go back to), when an unfinished promotion names it, or
 * when Stagecraft did not publish it. Dry run unless `yes`; each deletion is in the ledger.
 */
import { StagecraftError } from '../errors.js';
import { aliasName, instanceName, withEphemeral } from '../manifest/index.js';
import type { LedgerEntry, LedgerQuery, VersionRecord } from '../state/index.js';
import type { AppContext } from './context.js';
import type { PromotionState } from './journal.js';
import { withLock } from './locked.js';

export interface PruneOptions {
  /** How many releases live in each environment stay within reach of a rollback (default 3). */
  keep?: number;
  /** Delete; without it, only say what would be deleted. */
  yes?: boolean;
  /** The environments to look at; default the chain's. */
  environments?: string[];
}

export interface PrunedInstance {
  instance: string;
  function: string;
  environments: string[];
  kept: { version: number; release: string; reasons: string[] }[];
  deleted: { version: number; release: string; sha256: string }[];
}

export interface PruneResult {
  keep: number;
  applied: boolean;
  instances: PrunedInstance[];
  deleted: number;
}

export const DEFAULT_KEEP = 3;

export async function prune(ctx: AppContext, options: PruneOptions = {}): Promise<PruneResult> {
  const keep = options.keep ?? DEFAULT_KEEP;
  if (!Number.isInteger(keep) || keep < 1) {
    throw new StagecraftError('ARGUMENT_INVALID', `--keep ${keep} is not a number of releases`, {
      hint: 'give a whole number, 1 or more (default 3)',
    });
  }
  if (!options.yes) return { keep, applied: false, ...(await plan(ctx, keep, options.environments)) };
  return withLock(ctx, 'prune', async (ensureHeld) => {
    const planned = await plan(ctx, keep, options.environments);
    for (const entry of planned.instances) {
      for (const version of entry.deleted) {
        await ensureHeld();
        await ctx.provider.deleteVersion(entry.instance, version.version, {
          operation: 'prune',
          actor: ctx.actor,
          environment: entry.environments.length === 1 ? (entry.environments[0] ?? null) : null,
          function: entry.function,
          releaseId: version.release || null,
          detail: { keep },
        });
        ctx.report.progress(`deleted ${entry.instance} v${version.version} (${version.release || 'not a release'})`);
      }
    }
    return { keep, applied: true, ...planned };
  });
}

async function plan(
  ctx: AppContext,
  keep: number,
  only: string[] | undefined,
): Promise<Omit<PruneResult, 'keep' | 'applied'>> {
  // Ephemeral environments are pruned like the chain's.
  const manifest = withEphemeral(ctx.loaded.manifest, ctx.store.environments.list());
  const envs = only ?? manifest.environments.map((env) => env.name);
  // Single-stack shares one instance between environments: each of them may keep its versions.
  const instances = new Map<string, { fn: string; envs: string[] }>();
  for (const env of envs) {
    for (const fn of Object.keys(manifest.functions)) {
      const instance = instanceName(manifest, fn, env);
      const entry = instances.get(instance) ?? { fn, envs: [] };
      entry.envs.push(env);
      instances.set(instance, entry);
    }
  }
  const ledger = async (query: LedgerQuery): Promise<LedgerEntry[]> =>
    ctx.sharedLedger ? ctx.sharedLedger.list(query) : ctx.store.ledger.list(query);
  const promised = promotionVersions(ctx);
  const result: PrunedInstance[] = [];
  let deleted = 0;
  for (const [instance, { fn, envs: owners }] of instances) {
    const versions = await ctx.provider.listVersions(instance);
    if (versions.length === 0) continue;
    const reasons = new Map<number, string[]>();
    const because = (version: number | null | undefined, reason: string) => {
      if (version === null || version === undefined) return;
      reasons.set(version, [...(reasons.get(version) ?? []), reason]);
    };
    because(versions.at(-1)?.version, 'newest');
    for (const version of versions) if (!version.releaseId) because(version.version, 'not published by Stagecraft');
    for (const env of owners) {
      for (const role of ['live', 'smoke'] as const) {
        const name = aliasName(manifest, env, role);
        const alias = await ctx.provider.getAlias(instance, name);
        because(alias?.version, `alias ${name}`);
        because(alias?.extra?.version, `alias ${name} (traffic split)`);
      }
      const releases = recentLiveReleases(
        await ledger({ environment: env, kind: 'alias.moved' }),
        instance,
        aliasName(manifest, env, 'live'),
        versions,
        keep,
      );
      for (const version of versions) {
        if (version.environment === env && releases.includes(version.releaseId))
          because(version.version, `${version.releaseId}: one of the last ${keep} release(s) live in ${env}`);
      }
      for (const [version, id] of promised.get(instance) ?? []) because(version, `promotion ${id}`);
    }
    const entry: PrunedInstance = { instance, function: fn, environments: owners, kept: [], deleted: [] };
    for (const version of versions) {
      const why = reasons.get(version.version);
      if (why) entry.kept.push({ version: version.version, release: version.releaseId, reasons: why });
      else entry.deleted.push({ version: version.version, release: version.releaseId, sha256: version.sha256 });
    }
    deleted += entry.deleted.length;
    result.push(entry);
  }
  return { instances: result, deleted };
}

/**
 * The releases `live` ran in this environment, newest first, up to `keep`: the current one and
 * the ones it moved away from, read from the ledger's moves of the alias.
 */
function recentLiveReleases(
  moves: LedgerEntry[],
  instance: string,
  alias: string,
  versions: VersionRecord[],
  keep: number,
): string[] {
  const releaseOf = new Map(versions.map((version) => [version.version, version.releaseId]));
  const found: string[] = [];
  const add = (version: number | null) => {
    const release = version === null ? undefined : releaseOf.get(version);
    if (release && !found.includes(release) && found.length < keep) found.push(release);
  };
  for (const move of moves.filter((entry) => entry.instance === instance && entry.alias === alias).reverse()) {
    add(move.version);
    add(move.previousVersion);
  }
  return found;
}

/** Versions that unfinished promotions may still point an alias at: their backups and what they published. */
function promotionVersions(ctx: AppContext): Map<string, [number, string][]> {
  const named = new Map<string, [number, string][]>();
  for (const record of ctx.store.promotions.unfinished<PromotionState>()) {
    const manifest = ctx.store.releases.find(record.releaseId).manifest;
    for (const env of record.state.environments) {
      const versions = [
        ...Object.entries(env.backup ?? {}).flatMap(
          ([fn, backup]) =>
            [
              [fn, backup.live],
              [fn, backup.smoke],
            ] as const,
        ),
        ...Object.entries(env.published ?? {}),
      ];
      for (const [fn, version] of versions) {
        if (version === null) continue;
        const instance = instanceName(manifest, fn, env.name);
        named.set(instance, [...(named.get(instance) ?? []), [version, record.id]]);
      }
    }
  }
  return named;
}
