/**
 * Secrets on the aws provider (moto_server): a version's `${secret:…}` is opened at publish time
 * into Lambda's variables (the function needs the value), while everything Stagecraft reads
 * back — versions, status, the ledger — holds the pinned reference, never the value.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { GetAliasCommand, GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../src/release/index.js';
import { loadManifest } from '../src/manifest/index.js';
import { AwsClients, AwsProvider } from '../src/providers/aws/index.js';
import { StateStore } from '../src/state/index.js';
import { copyApp, runCli } from './helpers/cli.js';
import { startMotoSession, type Moto, type MotoSession } from './helpers/moto.js';

const PAYMENT_KEY = `pk_live_${randomBytes(12).toString('hex')}`;

describe('aws provider on moto: secrets', () => {
  const app = copyApp('aws-full');
  app.write(
    'stagecraft.yml',
    app
      .read('stagecraft.yml')
      .replace('  - name: prod', '  - name: prod\n    config: { PAYMENT_KEY: "${secret:payment-key}" }'),
  );
  const home = mkdtempSync(join(tmpdir(), 'stagecraft-aws-home-'));
  let moto: Moto;
  let session: MotoSession | undefined;
  let lambda: LambdaClient;
  const cli = async (args: string[], input?: string) => {
    const result = await runCli([...args, '--json', '--dir', app.dir], {
      env: { ...moto.env, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), STAGECRAFT_SECRET_KEY: '' },
      ...(input === undefined ? {} : { input }),
    });
    expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(PAYMENT_KEY);
    return result;
  };

  beforeAll(async () => {
    session = await startMotoSession();
    ({ moto, lambda } = session);
    await cli(['secret', 'set', 'prod', 'payment-key'], `${PAYMENT_KEY}\n`);
    await cli(['build']);
    await cli(['deploy', 'dev']);
    await cli(['deploy', 'prod']);
  }, 120_000);
  afterAll(async () => {
    await session?.stop();
    app.remove();
    rmSync(home, { recursive: true, force: true });
  });

  it('gives the function the secret value in its Lambda variables', async () => {
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: 'full-api-prod', Name: 'live' }));
    const version = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'full-api-prod', Qualifier: alias.FunctionVersion }),
    );
    expect(version.Environment?.Variables?.['PAYMENT_KEY']).toBe(PAYMENT_KEY);
  });

  it('reads versions back with the pinned reference, and status and history never show the value', async () => {
    const loaded = await loadManifest(app.dir);
    const store = StateStore.open(join(app.dir, '.stagecraft', 'state.db'));
    const clients = new AwsClients({});
    try {
      const provider = new AwsProvider({
        clients,
        artifacts: ArtifactStore.forApp(app.dir),
        manifest: loaded.manifest,
        ledger: { append: () => undefined },
      });
      const [version] = await provider.listVersions('full-api-prod');
      expect(version?.config['PAYMENT_KEY']).toMatch(/^\$\{secret:payment-key@\d+\}$/);
      expect(JSON.stringify(version)).not.toContain(PAYMENT_KEY);
    } finally {
      clients.destroy();
      store.close();
    }
    await cli(['status']);
    await cli(['history']);
  });

  it('masks the secret in what an invocation returns (moto echoes the event back)', async () => {
    const result = await cli(['invoke', 'api', '--env', 'prod', '--data', JSON.stringify({ leaked: PAYMENT_KEY })]);
    expect(result.json<{ ok: boolean; payload: { leaked: string } }>().payload.leaked).not.toContain(
      PAYMENT_KEY.slice(8),
    );
  });
});
