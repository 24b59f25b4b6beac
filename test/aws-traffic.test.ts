/**
 * Traffic shifting on the aws provider against a real moto_server: the exact UpdateAlias calls
 * (RoutingConfig.AdditionalVersionWeights) of a canary and a linear move, the final move clearing
 * the split, and a rollback when the CloudWatch alarm the environment names is put in ALARM
 * (`aws cloudwatch set-alarm-state`) in the middle of a shift.
 */
import { GetAliasCommand, UpdateAliasCommand, type UpdateAliasCommandInput } from '@aws-sdk/client-lambda';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../src/release/index.js';
import { loadManifest } from '../src/manifest/index.js';
import { buildRelease, deploy, SqliteLock, type AppContext, type PromotionOutcome } from '../src/promotion/index.js';
import { AwsClients, AwsProvider, REVISION_PROBE } from '../src/providers/aws/index.js';
import { SecretStore } from '../src/secrets/index.js';
import { StateStore } from '../src/state/index.js';
import { putErrorsAlarm, startMoto, useEnv, type Moto } from './helpers/moto.js';
import { eventually } from './helpers/wait.js';

const ALARM = 'shift-api-errors';

function writeApp(dir: string, deployment: string, answer: string): void {
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(
    join(dir, 'stagecraft.yml'),
    [
      'app: shift',
      'provider: aws',
      'environments:',
      '  - name: prod',
      `    deployment: ${deployment}`,
      `    alarms: [{ cloudwatch: ${ALARM} }]`,
      'functions:',
      '  api: { handler: src/api.handler }',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'src', 'api.mjs'), `export const handler = async () => (${JSON.stringify(answer)});\n`);
}

/** What one UpdateAlias of `live` or `smoke` asked Lambda for. */
const call = (input: UpdateAliasCommandInput) =>
  `${input.Name} → ${input.FunctionVersion} ${JSON.stringify(input.RoutingConfig?.AdditionalVersionWeights ?? null)}`;

describe('traffic shifting on moto_server', { timeout: 300_000 }, () => {
  let moto: Moto;
  let restoreEnv: () => void;
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-aws-shift-'));

  beforeAll(async () => {
    moto = await startMoto();
    restoreEnv = useEnv(moto.env);
    await putErrorsAlarm(ALARM, [
      { Name: 'FunctionName', Value: 'shift-api-prod' },
      { Name: 'Resource', Value: 'shift-api-prod:live' },
    ]);
  }, 60_000);
  afterAll(async () => {
    restoreEnv?.();
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Builds and deploys prod on a fresh provider, as a CLI process would; returns the outcome and the UpdateAlias calls. */
  async function release(
    deployment: string,
    answer: string,
    during?: (calls: UpdateAliasCommandInput[]) => Promise<void>,
  ): Promise<{ outcome: PromotionOutcome; calls: string[] }> {
    writeApp(dir, deployment, answer);
    const loaded = await loadManifest(dir);
    const store = StateStore.open(join(dir, '.stagecraft', 'state.db'));
    const artifacts = ArtifactStore.forApp(dir);
    const clients = new AwsClients({});
    const calls: UpdateAliasCommandInput[] = [];
    const send = clients.lambda.send.bind(clients.lambda) as (command: unknown) => Promise<unknown>;
    (clients.lambda as unknown as { send: (command: unknown) => Promise<unknown> }).send = (command) => {
      // The provider's once-per-process probe (does this endpoint check RevisionId?) moves nothing.
      if (command instanceof UpdateAliasCommand && command.input.RevisionId !== REVISION_PROBE)
        calls.push(command.input);
      return send(command);
    };
    try {
      const provider = new AwsProvider({
        clients,
        artifacts,
        manifest: loaded.manifest,
        pollMs: 50,
        ledger: {
          append: (entry) => {
            store.transaction(() => store.ledger.append(entry));
          },
        },
      });
      const ctx: AppContext = {
        loaded,
        store,
        artifacts,
        provider,
        lock: new SqliteLock(store),
        actor: 'shift',
        env: process.env,
        secrets: new SecretStore(store, { env: process.env, appDir: dir }),
        report: { progress: () => undefined, warn: () => undefined },
      };
      await buildRelease(ctx);
      const [outcome] = await Promise.all([deploy(ctx, 'prod'), during?.(calls)]);
      return { outcome, calls: calls.map(call) };
    } finally {
      clients.destroy();
      store.close();
    }
  }

  it('canary then linear: live stays on the old version with the new one as additional weight; the final move clears it', async () => {
    const first = await release('canary 10% 1s', 'one');
    expect(first.outcome.status).toBe('succeeded');
    const canary = await release('canary 10% 1s', 'two');
    expect(canary.outcome.status).toBe('succeeded');
    expect(canary.calls).toEqual(['smoke → 2 {}', 'live → 1 {"2":0.1}', 'live → 2 {}']);
    const linear = await release('linear 40% every 1s', 'three');
    expect(linear.outcome.status).toBe('succeeded');
    expect(linear.calls).toEqual(['smoke → 3 {}', 'live → 2 {"3":0.4}', 'live → 2 {"3":0.8}', 'live → 3 {}']);
  });

  it('the named CloudWatch alarm put in ALARM mid-shift rolls live back to the old version alone', async () => {
    const failed = await release('canary 10% 5m', 'four', async (calls) => {
      await eventually(
        async () =>
          calls.some((input) => input.RoutingConfig?.AdditionalVersionWeights?.['4'] !== undefined) ? true : undefined,
        120_000,
        'the 10 % split',
      );
      const aws = spawn(
        'aws',
        [
          'cloudwatch',
          'set-alarm-state',
          '--alarm-name',
          ALARM,
          '--state-value',
          'ALARM',
          '--state-reason',
          'errors seen by the test',
          '--endpoint-url',
          moto.endpoint,
        ],
        { env: { ...process.env, ...moto.env }, stdio: 'inherit' },
      );
      expect(await new Promise((resolve) => aws.once('exit', resolve))).toBe(0);
    });
    expect(failed.outcome).toMatchObject({
      status: 'failed',
      failure: {
        step: 'shifting',
        breach: { alarm: `cloudwatch ${ALARM}`, value: 'ALARM', reason: 'errors seen by the test' },
      },
    });
    expect(failed.calls).toEqual(['smoke → 4 {}', 'live → 3 {"4":0.1}', 'live → 3 {}', 'smoke → 3 {}']);
    const lambda = (await import('@aws-sdk/client-lambda')).LambdaClient;
    const client = new lambda({});
    const alias = await client.send(new GetAliasCommand({ FunctionName: 'shift-api-prod', Name: 'live' }));
    client.destroy();
    expect(alias.FunctionVersion).toBe('3');
    expect(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
  });
});
