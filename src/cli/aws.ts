/**
 * The composition root of `provider: aws`: the SDK clients, the provider, and where its ledger
 * records go. The AWS SDK is loaded only here and only for aws apps, so that local commands
 * start without it.
 */
import { readFileSync } from 'node:fs';
import type { ArtifactStore } from '../release/index.js';
import type { LoadedManifest } from '../manifest/index.js';
import type { PromotionLock } from '../promotion/index.js';
import type { AwsClients, AwsProvider } from '../providers/aws/index.js';
import type { VersionSecrets } from '../providers/index.js';
import type { StateStore } from '../state/index.js';
import type { SharedLedger } from '../state/shared/index.js';
import type { Output } from './output.js';

export interface OpenedAws {
  provider: AwsProvider;
  clients: AwsClients;
  close(): void;
}

/** `state: { backend: dynamodb }`: the lock and the shared copy of the ledger and releases. */
export interface SharedState {
  table: string;
  lock: PromotionLock;
  ledger: SharedLedger;
  /** Copies what the local database committed since the last copy. */
  sync(store: StateStore): Promise<void>;
  close(): void;
}

/** The default name of the shared state table when the manifest names none. */
export const DEFAULT_STATE_TABLE = 'stagecraft-state';

export async function openSharedState(
  loaded: LoadedManifest,
  out: Pick<Output, 'progress'>,
): Promise<SharedState | undefined> {
  const state = loaded.manifest.state;
  if (state?.backend !== 'dynamodb') return undefined;
  const [shared, clients] = await Promise.all([import('../state/shared/index.js'), awsClientsFor(loaded)]);
  const name = state.table ?? DEFAULT_STATE_TABLE;
  const table = new shared.StateTable(clients.dynamodb, name, { progress: (message) => out.progress(message) });
  const ledger = new shared.SharedLedger(table, loaded.manifest.app);
  return {
    table: name,
    lock: new shared.DynamoDbLock(table),
    ledger,
    sync: async (store) => {
      await ledger.sync(store);
    },
    close: () => clients.destroy(),
  };
}

/** The AWS SDK clients of an app: its region, the standard credential chain, AWS_ENDPOINT_URL. */
export async function awsClientsFor(loaded: LoadedManifest): Promise<AwsClients> {
  const aws = await import('../providers/aws/index.js');
  return new aws.AwsClients({ region: explicitRegion(loaded), defaultRegion: loaded.manifest.region });
}

export async function openAws(
  loaded: LoadedManifest,
  store: StateStore,
  artifacts: ArtifactStore,
  out: Pick<Output, 'progress'>,
  shared: SharedState | undefined,
  secrets: VersionSecrets,
): Promise<OpenedAws> {
  const aws = await import('../providers/aws/index.js');
  const clients = await awsClientsFor(loaded);
  const provider = new aws.AwsProvider({
    clients,
    artifacts,
    manifest: loaded.manifest,
    secrets,
    ephemeral: () => store.environments.list(),
    ledger: {
      append: async (entry) => {
        store.transaction(() => store.ledger.append(entry));
        // Shared state: the team sees each change on AWS as soon as it is made.
        await shared?.sync(store);
      },
    },
    aliasHistory: (instance, alias) => store.ledger.list({ instance, alias, limit: 1 })[0],
    alarmsRemain: async () => {
      // Shared state: every machine's newest word, so a CI runner that did not keep the alarms sees them.
      const said = await shared?.ledger.alarmsRemaining();
      if (said !== undefined) return said !== 0;
      const [last] = [
        ...store.ledger.list({ kind: 'alarms.kept', limit: 1 }),
        ...store.ledger.list({ kind: 'alarms.deleted', limit: 1 }),
      ].sort((a, b) => b.seq - a.seq);
      // Records from before `remaining` was kept cannot say: they count as alarms left.
      return last !== undefined && last.detail['remaining'] !== 0;
    },
    bucket: process.env['STAGECRAFT_ARTIFACT_BUCKET'] || undefined,
    progress: (message) => out.progress(message),
  });
  return { provider, clients, close: () => clients.destroy() };
}

/**
 * The manifest's `region:` when the file says one; otherwise the SDK's chain (AWS_REGION, the
 * profile) decides, and the schema's default (us-east-1) only when that names none either. The
 * schema fills the default in, so the file's own text tells whether a person chose it.
 */
function explicitRegion(loaded: LoadedManifest): string | undefined {
  try {
    return /^region\s*:/m.test(readFileSync(loaded.file, 'utf8')) ? loaded.manifest.region : undefined;
  } catch {
    return loaded.manifest.region;
  }
}
