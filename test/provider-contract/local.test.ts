/** The provider contract against the local provider: SQLite control plane, child-process runtime. */
import { LocalProvider } from '../../src/providers/index.js';
import { providerContract } from './contract.js';

providerContract('local', async ({ store, artifacts }) => ({
  provider: new LocalProvider({ store, artifacts, region: 'us-east-1', warn: () => undefined }),
  close: async () => undefined,
}));
