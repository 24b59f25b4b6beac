/**
 * What `doctor` reads when the platform, not the SQLite state, holds versions and aliases (aws):
 * every function instance of the manifest in every environment, and every one the ledger
 * mentions (a function since removed from the manifest may still run); their versions and their
 * `live` / `smoke` aliases, each read once through the provider; the releases those versions
 * name, from this machine's state or the shared one; and the ledger's last word on each alias.
 */
import { aliasName, instanceName } from '../../manifest/index.js';
import type { AliasRecord, LedgerEntry, Release, VersionRecord } from '../../state/index.js';
import type { AppContext } from '../context.js';

export type PlatformContext = Pick<AppContext, 'store' | 'loaded' | 'provider' | 'sharedReleases' | 'sharedLedger'>;

export interface AliasSlot {
  environment: string;
  function: string;
  instance: string;
  alias: string;
  /** Which of the environment's aliases this is; undefined for one only the ledger knows under another name. */
  role: 'live' | 'smoke' | undefined;
  /** Where the alias points now (undefined: it does not exist). */
  current: AliasRecord | undefined;
  /** The newest `alias.moved` / `alias.deleted` record of it. */
  recorded: LedgerEntry | undefined;
}

export interface PlatformView {
  aliases: AliasSlot[];
  /** Each instance's function and its published versions, oldest first. */
  instances: Map<string, { function: string; versions: VersionRecord[] }>;
  /** The ledger, oldest first: the team's with shared state, else this machine's. */
  ledger: LedgerEntry[];
  /** The release a version names: by its id, or by its digest when another machine numbered it. */
  release(id: string): Release | undefined;
  /** One published version of an instance, if it exists. */
  version(instance: string, number: number | null | undefined): VersionRecord | undefined;
}

export async function readPlatform(ctx: PlatformContext): Promise<PlatformView> {
  const { manifest } = ctx.loaded;
  const ledger = ctx.sharedLedger ? await ctx.sharedLedger.list({}) : ctx.store.ledger.list();
  const functions = new Map<string, string>();
  const slots = new Map<string, Omit<AliasSlot, 'current' | 'recorded'>>();
  const add = (environment: string, fn: string, instance: string, alias: string | null): void => {
    if (!functions.get(instance)) functions.set(instance, fn);
    if (alias === null || slots.has(slotKey(instance, alias))) return;
    const role =
      alias === aliasName(manifest, environment, 'live')
        ? 'live'
        : alias === aliasName(manifest, environment, 'smoke')
          ? 'smoke'
          : undefined;
    slots.set(slotKey(instance, alias), { environment, function: fn, instance, alias, role });
  };
  for (const { name: env } of manifest.environments) {
    for (const fn of Object.keys(manifest.functions)) {
      for (const role of ['live', 'smoke'] as const)
        add(env, fn, instanceName(manifest, fn, env), aliasName(manifest, env, role));
    }
  }
  const recorded = new Map<string, LedgerEntry>();
  for (const entry of ledger) {
    if (entry.instance === null) continue;
    add(entry.environment ?? '', entry.function ?? '', entry.instance, entry.alias);
    // Oldest first: the last record seen of an alias is its newest.
    if ((entry.kind === 'alias.moved' || entry.kind === 'alias.deleted') && entry.alias !== null)
      recorded.set(slotKey(entry.instance, entry.alias), entry);
  }

  // One call after another: doctor is never in a hurry, and Lambda's control plane throttles bursts.
  const instances: PlatformView['instances'] = new Map();
  for (const [instance, fn] of functions)
    instances.set(instance, { function: fn, versions: await ctx.provider.listVersions(instance) });
  const aliases: AliasSlot[] = [];
  for (const slot of slots.values()) {
    aliases.push({
      ...slot,
      current: await ctx.provider.getAlias(slot.instance, slot.alias),
      recorded: recorded.get(slotKey(slot.instance, slot.alias)),
    });
  }

  let known = ctx.store.releases.list();
  const named = [...instances.values()]
    .flatMap((instance) => instance.versions.map((version) => version.releaseId))
    .filter((id) => id !== '');
  if (ctx.sharedReleases && named.some((id) => findRelease(known, id) === undefined))
    known = [...known, ...(await ctx.sharedReleases())];
  return {
    aliases,
    instances,
    ledger,
    release: (id) => findRelease(known, id),
    version: (instance, number) => instances.get(instance)?.versions.find((version) => version.version === number),
  };
}

function slotKey(instance: string, alias: string): string {
  return `${instance}\u0000${alias}`;
}

/** Release ids are `r<n>-<digest prefix>`; two machines number the same release differently, its digest is the same. */
function findRelease(releases: Release[], id: string): Release | undefined {
  const digest = /^r\d+-([0-9a-f]{8,})$/.exec(id)?.[1];
  return (
    releases.find((release) => release.id === id) ??
    (digest === undefined ? undefined : releases.find((release) => release.digest.startsWith(digest)))
  );
}
