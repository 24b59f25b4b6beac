/**
 * The composition root of `provider: aws`: the SDK clients, the provider, and where its ledger
 * records go. The AWS SDK is loaded only here and only for aws apps, so that local commands
 * start without it.
 */
import { readFileSync } from 'node:fs';
import type { ArtifactStore } from '../build/index.js';
import type { LoadedManifest } from '../manifest/index.js';
import type { AwsClients, AwsProvider } from '../providers/aws/index.js';
import type { StateStore } from '../state/index.js';
import type { Output } from './output.js';

export interface OpenedAws {
  provider: AwsProvider;
  clients: AwsClients;
  close(): void;
}

/** The AWS SDK clients of an app: its region, the standard credential chain, AWS_ENDPOINT_URL. */
export async function awsClientsFor(loaded: LoadedManifest): Promise<AwsClients> {
  const aws = await import('../providers/aws/index.js');
  return new aws.AwsClients({ region: explicitRegion(loaded), defaultRegion: loaded.manifest.region });
}

export async function openAws(loaded: LoadedManifest, store: StateStore, artifacts: ArtifactStore, out: Pick<Output, 'progress'>): Promise<OpenedAws> {
  const aws = await import('../providers/aws/index.js');
  const clients = await awsClientsFor(loaded);
  const provider = new aws.AwsProvider({
    clients, artifacts, manifest: loaded.manifest,
    ledger: { append: (entry) => { store.transaction(() => store.ledger.append(entry)); } },
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
