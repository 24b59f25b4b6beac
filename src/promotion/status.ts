/**
 * `status`: for every environment and function, what `live` and `smoke` point at, which
 * release and artifact that is, from which commit, and since when.
 */
import { aliasName, instanceName, withEphemeral } from '../manifest/index.js';
import type { AliasRecord, VersionRecord } from '../state/index.js';
import type { AppContext } from './context.js';
import type { PromotionState } from './journal.js';

export interface AliasStatus {
  version: number;
  release: string;
  sha256: string;
  commit: string | null;
  since: string;
  /** During a canary: the second version and its share of the traffic. */
  extra?: { version: number; weight: number; release: string; sha256: string };
}

export interface FunctionStatus {
  function: string;
  instance: string;
  live: AliasStatus | null;
  smoke: AliasStatus | null;
}
export interface EnvironmentStatus {
  name: string;
  functions: FunctionStatus[];
  /** For an ephemeral environment (`deploy --ephemeral`): whose, which branch, copied from where, when it expires. */
  ephemeral?: { owner: string; branch: string; from: string; createdAt: string; expiresAt: string };
}
/** A promotion that is not finished: paused at a manual gate, or interrupted (its process gone) or running now. */
export interface PendingPromotion {
  id: string;
  kind: string;
  release: string;
  status: string;
  environment: string;
  startedBy: string;
  since: string;
}

export interface AppStatus {
  app: string;
  strategy: string;
  provider: string;
  latestRelease: string | null;
  environments: EnvironmentStatus[];
  /** Unfinished promotions, e.g. one awaiting approval. */
  promotions: PendingPromotion[];
}

export async function appStatus(ctx: Pick<AppContext, 'loaded' | 'store' | 'provider'>): Promise<AppStatus> {
  const ephemeral = ctx.store.environments.list();
  // Ephemeral environments are listed after the chain, as copies of the environment they come from.
  const manifest = withEphemeral(ctx.loaded.manifest, ephemeral);
  // Versions come from the provider, not the local database: on AWS, Lambda holds them.
  const versions = new Map<string, Promise<VersionRecord[]>>();
  const versionOf = async (instance: string, number: number): Promise<VersionRecord | undefined> => {
    if (!versions.has(instance)) versions.set(instance, ctx.provider.listVersions(instance));
    return (await versions.get(instance))?.find((candidate) => candidate.version === number);
  };
  const commitOf = (releaseId: string): string | null => {
    try {
      return ctx.store.releases.find(releaseId).commit;
    } catch {
      return null; // a version published outside this app's state
    }
  };
  const describe = async (instance: string, alias: AliasRecord | undefined): Promise<AliasStatus | null> => {
    if (!alias) return null;
    const version = await versionOf(instance, alias.version);
    if (!version) return null;
    const release = { commit: commitOf(version.releaseId) };
    const extraVersion = alias.extra && (await versionOf(instance, alias.extra.version));
    return {
      version: alias.version,
      release: version.releaseId,
      sha256: version.sha256,
      commit: release.commit,
      since: alias.updatedAt,
      ...(alias.extra && extraVersion
        ? {
            extra: {
              version: alias.extra.version,
              weight: alias.extra.weight,
              release: extraVersion.releaseId,
              sha256: extraVersion.sha256,
            },
          }
        : {}),
    };
  };
  const environments: EnvironmentStatus[] = [];
  for (const environment of manifest.environments) {
    const functions: FunctionStatus[] = [];
    for (const fn of Object.keys(manifest.functions)) {
      const instance = instanceName(manifest, fn, environment.name);
      functions.push({
        function: fn,
        instance,
        live: await describe(
          instance,
          await ctx.provider.getAlias(instance, aliasName(manifest, environment.name, 'live')),
        ),
        smoke: await describe(
          instance,
          await ctx.provider.getAlias(instance, aliasName(manifest, environment.name, 'smoke')),
        ),
      });
    }
    const own = ephemeral.find((entry) => entry.name === environment.name);
    environments.push({
      name: environment.name,
      functions,
      ...(own
        ? {
            ephemeral: {
              owner: own.owner,
              branch: own.branch,
              from: own.from,
              createdAt: own.createdAt,
              expiresAt: own.expiresAt,
            },
          }
        : {}),
    });
  }
  const promotions = ctx.store.promotions.unfinished<PromotionState>().map((record): PendingPromotion => ({
    id: record.id,
    kind: record.kind,
    release: record.releaseId,
    status: record.status,
    startedBy: record.startedBy,
    since: record.updatedAt,
    environment:
      record.state.environments.find((env) => !['live', 'passed', 'pending', 'restored'].includes(env.step))?.name ??
      record.target,
  }));
  return {
    app: manifest.app,
    strategy: manifest.strategy,
    provider: manifest.provider,
    latestRelease: ctx.store.releases.latest()?.id ?? null,
    environments,
    promotions,
  };
}
