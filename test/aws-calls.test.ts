/**
 * How many AWS API calls a promotion step makes, counted by SDK middleware on every client
 * (AwsClients' `onCall`), against a real moto_server, for apps of 1, 4 and 8 functions. Each
 * step runs on a fresh provider, as a fresh CLI process would (no warm caches).
 *
 * The budget of issue 6: promoting N functions through one environment makes at most N
 * PublishVersion + 2N UpdateAlias, and no CloudFormation update when only code changed. The
 * other calls are pinned per operation, so a change that adds calls shows up here.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../src/release/index.js';
import { loadManifest } from '../src/manifest/index.js';
import { buildRelease, deploy, promote, SqliteLock, type AppContext } from '../src/promotion/index.js';
import { GetAliasCommand, LambdaClient, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { AwsClients, AwsProvider, CallBudget, type AwsCall } from '../src/providers/aws/index.js';
import { SecretStore } from '../src/secrets/index.js';
import { StateStore } from '../src/state/index.js';
import { startLambdaProxy, type LambdaProxy } from './helpers/lambda-proxy.js';
import { startMoto, useEnv, type Moto } from './helpers/moto.js';

type Counts = Record<string, number>;

/** An app of `functions` functions, each with its own handler file, so each has its own artifact. */
function writeApp(dir: string, functions: number, answer: string, environments = ['dev', 'prod']): void {
  mkdirSync(join(dir, 'src'), { recursive: true });
  const names = Array.from({ length: functions }, (_, index) => `fn${index + 1}`);
  writeFileSync(
    join(dir, 'stagecraft.yml'),
    [
      `app: calls${functions}`,
      'provider: aws',
      'environments:',
      ...environments.map((env) => `  - name: ${env}`),
      'functions:',
      ...names.map((name) => `  ${name}: { handler: src/${name}.handler }`),
    ].join('\n'),
  );
  for (const name of names)
    writeFileSync(
      join(dir, 'src', `${name}.mjs`),
      `export const handler = async () => (${JSON.stringify(`${answer} from ${name} of calls${functions}`)});\n`,
    );
}

describe('AWS API calls per promotion step', () => {
  let moto: Moto;
  let proxy: LambdaProxy;
  let restoreEnv: () => void;
  const table: string[] = [];

  beforeAll(async () => {
    moto = await startMoto();
    // Lambda through the proxy: it checks UpdateAlias's RevisionId and throttles past 15 budgeted
    // calls/s, as Lambda does, so the counts are those a promotion makes on AWS.
    proxy = await startLambdaProxy(moto.endpoint);
    restoreEnv = useEnv({ ...moto.env, AWS_ENDPOINT_URL_LAMBDA: proxy.endpoint });
  }, 60_000);
  afterAll(async () => {
    restoreEnv?.();
    await proxy?.stop();
    await moto?.stop();
    // Every step above reached its end through the 15/s proxy: any 429 was absorbed by the budget
    // and the SDK's adaptive retry, none reached the caller.
    console.log(`calls the proxy answered 429 TooManyRequestsException: ${proxy?.throttled ?? 0}`);
    console.log(
      [
        '| N | step | PublishVersion | UpdateAlias + CreateAlias | CloudFormation | other calls | total | Lambda calls in the 15/s budget |',
        '|---|---|---|---|---|---|---|---|',
        ...table,
      ].join('\n'),
    );
  });

  /** One step on a fresh provider; returns the calls it made by operation. */
  async function step(
    dir: string,
    work: (ctx: AppContext) => Promise<unknown>,
    options: { budget?: CallBudget; warn?: (message: string) => void } = {},
  ): Promise<Counts> {
    const calls: AwsCall[] = [];
    const loaded = await loadManifest(dir);
    const store = StateStore.open(join(dir, '.stagecraft', 'state.db'));
    const artifacts = ArtifactStore.forApp(dir);
    const clients = new AwsClients({
      onCall: (call) => calls.push(call),
      ...(options.budget ? { budget: options.budget } : {}),
    });
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
        aliasHistory: (instance, alias) => store.ledger.list({ instance, alias, limit: 1 })[0],
      });
      const secrets = new SecretStore(store, { env: process.env, appDir: dir });
      await work({
        loaded,
        store,
        artifacts,
        provider,
        lock: new SqliteLock(store),
        actor: 'calls',
        env: process.env,
        secrets,
        report: { progress: () => undefined, warn: options.warn ?? (() => undefined) },
      });
    } finally {
      clients.destroy();
      store.close();
    }
    const counts: Counts = {};
    if (process.env['CALLS_DEBUG']) console.log(JSON.stringify(calls.map((c) => c.operation)));
    for (const call of calls)
      counts[`${call.service}.${call.operation}`] = (counts[`${call.service}.${call.operation}`] ?? 0) + 1;
    return counts;
  }

  const sum = (counts: Counts, pick: (key: string) => boolean) =>
    Object.entries(counts)
      .filter(([key]) => pick(key))
      .reduce((total, [, count]) => total + count, 0);
  /** Lambda's control-plane calls that share the account's 15 per second: all but GetFunction, GetPolicy and Invoke. */
  const budgeted = (counts: Counts) =>
    sum(
      counts,
      (key) => key.startsWith('Lambda.') && !['Lambda.GetFunction', 'Lambda.GetPolicy', 'Lambda.Invoke'].includes(key),
    );
  const record = (n: number, name: string, counts: Counts) => {
    const publish = counts['Lambda.PublishVersion'] ?? 0;
    const aliases = (counts['Lambda.UpdateAlias'] ?? 0) + (counts['Lambda.CreateAlias'] ?? 0);
    const total = sum(counts, () => true);
    table.push(
      `| ${n} | ${name} | ${publish} | ${aliases} | ${sum(counts, (key) => key.startsWith('CloudFormation.'))} | ${total - publish - aliases} | ${total} | ${budgeted(counts)} |`,
    );
  };

  for (const n of [1, 4, 8]) {
    it(`${n} function(s): a code-only release through an existing environment costs N PublishVersion, 2N UpdateAlias and no stack update`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'stagecraft-calls-'));
      try {
        writeApp(dir, n, 'one');
        const first = await step(dir, async (ctx) => {
          await buildRelease(ctx);
          await deploy(ctx, 'dev');
        });
        record(n, 'first deploy (creates stack and functions)', first);
        expect(first['CloudFormation.CreateStack']).toBe(1);
        expect(first['Lambda.CreateFunction']).toBe(n);

        const firstProd = await step(dir, async (ctx) => {
          await promote(ctx);
        });
        record(n, 'first promotion to prod (creates its stack and functions)', firstProd);

        writeApp(dir, n, 'two');
        const code = await step(dir, async (ctx) => {
          await buildRelease(ctx);
          await deploy(ctx, 'dev');
        });
        record(n, 'code-only release, existing environment', code);
        expect(code['Lambda.PublishVersion']).toBe(n);
        // 2N moves, and once per provider the probe that asks whether UpdateAlias's RevisionId is checked.
        expect((code['Lambda.UpdateAlias'] ?? 0) + (code['Lambda.CreateAlias'] ?? 0)).toBe(2 * n + 1);
        // No stack change: the stack's tag and the template it holds read, and nothing that
        // creates, updates or plans.
        expect(
          Object.keys(code)
            .filter((key) => key.startsWith('CloudFormation.'))
            .sort(),
        ).toEqual(['CloudFormation.DescribeStacks', 'CloudFormation.GetTemplate']);
        // The rest, pinned. Per function, the provider's: the new artifact looked for and uploaded
        // once, one read of $LATEST (GetFunction: outside the 15/s budget; for the ledger's
        // config-change detail and what to update), the new code only (the release id is in the
        // version's description, not in a Lambda variable, so the config is unchanged). No alias read
        // per function: the ledger holds each alias's last move with the RevisionId Lambda answered,
        // which Lambda checks on the move. Once per run: the stack's state, the template it holds
        // (changed by hand, it is put back), the account, and the probe that asks whether RevisionId
        // is checked (one GetAlias, one no-op UpdateAlias).
        expect(code).toEqual({
          'CloudFormation.DescribeStacks': 1,
          'CloudFormation.GetTemplate': 1,
          'STS.GetCallerIdentity': 1,
          'S3.HeadObject': n,
          'S3.PutObject': n,
          'Lambda.GetFunction': n,
          'Lambda.UpdateFunctionCode': n,
          'Lambda.PublishVersion': n,
          'Lambda.GetAlias': 1,
          'Lambda.UpdateAlias': 2 * n + 1,
        });
        // Budgeted calls per function: 10 before the alias cache, 8 + 1/N after it, 4 + 2/N now.
        expect(budgeted(code)).toBe(4 * n + 2);

        // The same release promoted on: dev is passed (its live checked), prod takes the
        // artifacts already in S3 (looked for, not uploaded again).
        const onward = await step(dir, async (ctx) => {
          await promote(ctx);
        });
        record(n, 'that release promoted on to prod (dev passed)', onward);
        expect(onward['Lambda.PublishVersion']).toBe(n);
        expect(onward['Lambda.UpdateAlias']).toBe(2 * n + 1);
        expect(onward['S3.PutObject'] ?? 0).toBe(0);
        expect(onward).toEqual({
          'CloudFormation.DescribeStacks': 1,
          'CloudFormation.GetTemplate': 1,
          'STS.GetCallerIdentity': 1,
          'S3.HeadObject': n,
          // dev passed: the version its live alias is on (the alias from the ledger), read with
          // GetFunction; prod likewise, to see it is not on this release yet; then as above.
          'Lambda.GetFunction': 3 * n,
          'Lambda.UpdateFunctionCode': n,
          'Lambda.PublishVersion': n,
          'Lambda.GetAlias': 1,
          'Lambda.UpdateAlias': 2 * n + 1,
        });
        expect(budgeted(onward)).toBe(4 * n + 2);

        const again = await step(dir, async (ctx) => {
          await deploy(ctx, 'dev');
        });
        record(n, 'same release again (no change)', again);
        expect(again['Lambda.PublishVersion']).toBe(n);
        // Nothing moves: the one UpdateAlias is the probe (refused by its RevisionId, changes nothing).
        expect(again['Lambda.UpdateFunctionCode'] ?? 0).toBe(0);
        expect(again['Lambda.UpdateFunctionConfiguration'] ?? 0).toBe(0);
        expect(again['Lambda.UpdateAlias'] ?? 0).toBe(1);
        // PublishVersion (answered with the version there is) and the probe's two calls.
        expect(budgeted(again)).toBe(n + 2);
        expect(
          sum(
            again,
            (key) =>
              key.startsWith('CloudFormation.') &&
              !['CloudFormation.DescribeStacks', 'CloudFormation.GetTemplate'].includes(key),
          ),
        ).toBe(0);

        // A release that changes fn1 only: the others' code is already there, and PublishVersion
        // answers with the version they have (Lambda publishes none for unchanged code and config).
        writeFileSync(join(dir, 'src', 'fn1.mjs'), 'export const handler = async () => "three from fn1";\n');
        const partial = await step(dir, async (ctx) => {
          await buildRelease(ctx);
          await deploy(ctx, 'dev');
        });
        record(n, 'release changing fn1 only, existing environment', partial);
        expect(partial['Lambda.UpdateFunctionCode']).toBe(1);
        expect(partial['Lambda.PublishVersion']).toBe(n);
        expect(partial['Lambda.UpdateAlias']).toBe(2 + 1);
        // fn1 as a code-only release (4), each other function its PublishVersion, the probe's two.
        expect(budgeted(partial)).toBe(4 + (n - 1) + 2);
        // Promoted on: dev passed though its unchanged functions' versions name an older release
        // (the journal of this release's deploy says it put them live), prod as dev was.
        const partialOnward = await step(dir, async (ctx) => {
          const outcome = await promote(ctx);
          expect(outcome.environments.map((env) => [env.name, env.step])).toEqual([
            ['dev', 'passed'],
            ['prod', 'live'],
          ]);
        });
        record(n, 'that release promoted on to prod (dev passed)', partialOnward);
        expect(budgeted(partialOnward)).toBe(4 + (n - 1) + 2);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);
  }

  it("20 functions × 3 environments: a code change promotes through all three, 4 budgeted calls per function and environment, Lambda's 429s absorbed", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagecraft-calls-'));
    const environments = ['dev', 'staging', 'prod'];
    try {
      writeApp(dir, 20, 'one', environments);
      await step(dir, async (ctx) => {
        await buildRelease(ctx);
        await promote(ctx);
      });
      writeApp(dir, 20, 'two', environments);
      await step(dir, async (ctx) => {
        await buildRelease(ctx);
      });
      const throttledBefore = proxy.throttled;
      const warnings: string[] = [];
      // This process's bucket at 20/s against Lambda's 15/s, as when another process of the account
      // spends part of it: the proxy answers 429, and the SDK's adaptive retry must absorb every one.
      const code = await step(
        dir,
        async (ctx) => {
          const outcome = await promote(ctx);
          expect(outcome.status).toBe('succeeded');
          expect(outcome.environments.map((env) => env.step)).toEqual(['live', 'live', 'live']);
        },
        { budget: new CallBudget({ perSecond: 20 }), warn: (message) => warnings.push(message) },
      );
      record(20, 'code change promoted through 3 environments (20/s against 15/s)', code);
      expect(proxy.throttled).toBeGreaterThan(throttledBefore);
      expect(warnings.join('\n')).not.toMatch(/TooManyRequests|Rate exceeded|throttl/i);
      // Per function and environment: UpdateFunctionCode, PublishVersion, UpdateAlias × 2; the probe once.
      expect(budgeted(code)).toBe(4 * 20 * environments.length + 2);
      expect(code['Lambda.UpdateFunctionConfiguration'] ?? 0).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);

  it('an alias changed outside Stagecraft: Lambda refuses the RevisionId the ledger kept, and the alias is read afresh', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagecraft-calls-'));
    const lambda = new LambdaClient({});
    // An app of its own (two functions: calls2), so that its version numbers are its own.
    const instance = 'calls2-fn1-dev';
    /** Moves `smoke` by hand (as the console would): a new RevisionId, Stagecraft's description kept. */
    const moveByHand = async (version?: string) => {
      const alias = await lambda.send(new GetAliasCommand({ FunctionName: instance, Name: 'smoke' }));
      await lambda.send(
        new UpdateAliasCommand({
          FunctionName: instance,
          Name: 'smoke',
          FunctionVersion: version ?? alias.FunctionVersion,
          Description: alias.Description,
        }),
      );
    };
    const deployed = async (answer: string) => {
      writeApp(dir, 2, answer);
      let status = '';
      let reason = '';
      await step(dir, async (ctx) => {
        await buildRelease(ctx);
        const outcome = await deploy(ctx, 'dev');
        status = outcome.status;
        reason = outcome.failure?.reason ?? '';
      });
      return { status, reason };
    };
    try {
      expect((await deployed('one')).status).toBe('succeeded');
      expect((await deployed('two')).status).toBe('succeeded');
      // Same target, new RevisionId: the ledger's is refused, the alias read says what the ledger
      // said, and the move goes on with the RevisionId just read.
      await moveByHand();
      expect(await deployed('three')).toEqual({ status: 'succeeded', reason: '' });
      // Moved elsewhere: the move is refused as a change while it ran, and the rollback (which reads
      // the alias afresh) puts smoke back where Stagecraft had it; the next deploy goes through.
      await moveByHand('1');
      const refused = await deployed('four');
      expect(refused.status).toBe('failed');
      expect(refused.reason).toMatch(/alias smoke of calls2-fn1-dev changed while this operation ran/);
      expect((await lambda.send(new GetAliasCommand({ FunctionName: instance, Name: 'smoke' }))).FunctionVersion).toBe(
        '3',
      );
      expect((await deployed('four')).status).toBe('succeeded');
    } finally {
      lambda.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
