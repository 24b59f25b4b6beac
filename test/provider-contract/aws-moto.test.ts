/**
 * The provider contract against the aws provider on a real moto_server: Lambda versions and
 * aliases, S3 artifacts and a CloudFormation stack, through the same interface and the same tests
 * as the local provider.
 */
import { AwsClients, AwsProvider } from '../../src/providers/aws/index.js';
import { startMoto, useEnv } from '../helpers/moto.js';
import { providerContract } from './contract.js';

providerContract('aws on moto_server', async ({ store, artifacts, manifest }) => {
  const moto = await startMoto();
  const restoreEnv = useEnv(moto.env);
  const clients = new AwsClients({});
  const provider = new AwsProvider({
    clients,
    artifacts,
    manifest: { ...manifest, provider: 'aws' },
    pollMs: 50,
    ledger: {
      append: (entry) => {
        store.transaction(() => store.ledger.append(entry));
      },
    },
  });
  return {
    provider,
    close: async () => {
      clients.destroy();
      restoreEnv();
      await moto.stop();
    },
  };
});
