/**
 * `doctor` on the aws provider reads what it checks from AWS itself (a real moto_server): after a
 * promotion every check holds; then AWS is changed behind Stagecraft's back with the SDK — live
 * moved, smoke deleted, a version published with other code under a copied description, a
 * stack's template changed, a stack deleted — and each time the right check fails, naming what is
 * wrong and what to do, with exit 1. Each tamper is undone (the way doctor says) before the next,
 * so every failure is attributable. The lock it reports is the shared one in DynamoDB.
 */
import {
  CloudFormationClient,
  DeleteStackCommand,
  GetTemplateCommand,
  UpdateStackCommand,
} from '@aws-sdk/client-cloudformation';
import {
  DeleteAliasCommand,
  DeleteFunctionCommand,
  GetFunctionConfigurationCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, ROOT, runCli } from './helpers/cli.js';
import { startMotoSession, type Moto, type MotoSession, shopSmokeForMoto } from './helpers/moto.js';

interface DoctorJson {
  ok: boolean;
  checks: { name: string; status: string; message: string; details?: string[] }[];
}
interface BuildJson {
  release: string;
  functions: { function: string; sha256: string }[];
}

const HEALTHY = JSON.stringify({ statusCode: 200, body: JSON.stringify({ status: 'ok' }) });
const CHECKS = [
  'artifacts',
  'code',
  'versions',
  'aliases',
  'ledger',
  'stack',
  'bindings',
  'immutability',
  'promotions',
  'lock',
  'environments',
  'secrets',
];

/** The CLI on the app in `dir`, against moto, expected to exit with `expectCode`. */
async function runIn(dir: string, moto: Moto, args: string[], expectCode: number) {
  const result = await runCli([...args, '--dir', dir], { env: moto.env, timeoutMs: 120_000 });
  expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(expectCode);
  return result;
}

const statuses = (report: DoctorJson) => report.checks.map((check) => [check.name, check.status]);
const failing = (report: DoctorJson) =>
  report.checks.filter((check) => check.status === 'fail').map((check) => check.name);
const checkOf = (report: DoctorJson, name: string) => report.checks.find((check) => check.name === name);

describe('doctor on aws (moto), multi-stack with shared state: examples/shop', () => {
  const app = copyApp('examples/shop', { insideRepo: true });
  shopSmokeForMoto(app);
  app.write(
    'stagecraft.yml',
    app
      .read('stagecraft.yml')
      .replace(/^runtime:/m, 'provider: aws\nstate: { backend: dynamodb, table: shop-doctor-state }\nruntime:')
      .replace('    approval: manual\n', ''),
  );
  let moto: Moto;
  let session: MotoSession | undefined;
  let lambda: LambdaClient;
  let cloudformation: CloudFormationClient;
  let first: BuildJson;

  const cli = (args: string[], expectCode = 0) => runIn(app.dir, moto, args, expectCode);
  const doctor = async (expectCode: number) => (await cli(['doctor', '--json'], expectCode)).json<DoctorJson>();
  /** Runs the command a doctor detail names between backquotes, as a person would paste it. */
  const runHint = async (detail: string | undefined, tests: number) => {
    const command = /`stagecraft ([^`]+)`/.exec(detail ?? '')?.[1];
    expect(command, detail).toBeDefined();
    await moto.queueLambdaResponses(Array.from({ length: tests }, () => HEALTHY));
    await cli([...(command ?? '').split(' '), '--json']);
  };

  beforeAll(async () => {
    session = await startMotoSession();
    ({ moto, lambda } = session);
    cloudformation = new CloudFormationClient({});
    first = (await cli(['build', '--json'])).json<BuildJson>();
    // Three smoke tests in each of the three environments.
    await moto.queueLambdaResponses(Array.from({ length: 9 }, () => HEALTHY));
    await cli(['promote', '--json']);
  }, 180_000);
  afterAll(async () => {
    cloudformation?.destroy();
    await session?.stop();
    app.remove();
  }, 180_000);

  it('after a promotion every check holds, read from AWS (the SQLite alias table is empty)', async () => {
    const db = new Database(join(app.dir, '.stagecraft', 'state.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT COUNT(*) AS n FROM aliases').get()).toEqual({ n: 0 });
      expect(db.prepare("SELECT COUNT(*) AS n FROM ledger WHERE kind = 'alias.moved'").get()).toEqual({ n: 18 }); // live and smoke of three functions in three environments
    } finally {
      db.close();
    }
    const report = await doctor(0);
    expect(statuses(report)).toEqual(CHECKS.map((name) => [name, 'ok']));
    expect(checkOf(report, 'versions')?.message).toBe("9 version(s) run their release's artifact");
    expect(checkOf(report, 'stack')?.message).toBe(
      '3 stack(s) hold the template Stagecraft applied (shop-dev, shop-staging, shop-prod)',
    );
    expect(checkOf(report, 'bindings')?.message).toBe(
      'the event sources of 9 live alias(es) are mapped as declared, and none to smoke',
    );
    expect((await cli(['doctor'])).stdout).toMatch(/ok {4}stack {9}3 stack\(s\)[\s\S]*every invariant holds/);
  }, 180_000);

  it('reports the DynamoDB lock: held by a live process, then left by a dead one', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [join(ROOT, 'test', 'fixtures', 'aws', 'hold-lock.mjs'), 'shop-doctor-state', 'shop', '', 'yes'],
      {
        env: { ...process.env, ...moto.env },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout?.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('"acquired":true')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`lock holder exited ${code}`)));
      });
      expect(checkOf(await doctor(0), 'lock')).toEqual({
        name: 'lock',
        status: 'ok',
        message: `held by \`promote\` (pid ${child.pid})`,
      });
    } finally {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    }
    const left = await doctor(0);
    expect(checkOf(left, 'lock')).toMatchObject({
      status: 'warn',
      message: expect.stringMatching(
        new RegExp(
          `^held by \`promote\` \\(pid ${child.pid}, since .*\\), whose process is gone; the next command takes it over$`,
        ),
      ),
    });
  }, 180_000);

  it('(a) live moved to another version outside Stagecraft fails the ledger check; the rollback it names puts it back', async () => {
    app.write('src/api.ts', app.read('src/api.ts').replace("status: 'ok',", "status: 'ok', revision: 2,"));
    const second = (await cli(['build', '--json'])).json<BuildJson>();
    await moto.queueLambdaResponses([HEALTHY, HEALTHY, HEALTHY]);
    await cli(['deploy', 'dev', '--json']); // takes the dead holder's lock over
    expect(failing(await doctor(0))).toEqual([]);

    await lambda.send(new UpdateAliasCommand({ FunctionName: 'shop-api-dev', Name: 'live', FunctionVersion: '1' }));
    const report = await doctor(1);
    expect(failing(report)).toEqual(['ledger']);
    const ledger = checkOf(report, 'ledger');
    expect(ledger?.message).toMatch(/moved or deleted outside Stagecraft/);
    expect(ledger?.details).toEqual([
      expect.stringMatching(
        /^shop-api-dev live: is v1 \(revision 2\), the ledger says v2 \(revision 2, #\d+\); `stagecraft rollback dev --function api --to 2` points it back at v2$/,
      ),
    ]);
    // dev's api runs the first release again, and its worker and report never left it: the second
    // release changed neither, and Lambda kept their versions. One release there, no warning.
    expect(second.release).not.toBe(first.release);
    expect(checkOf(report, 'environments')).toMatchObject({ status: 'ok' });

    await runHint(ledger?.details?.[0], 0);
    expect(statuses(await doctor(0))).toEqual(CHECKS.map((name) => [name, 'ok']));
  }, 180_000);

  it('(b) smoke deleted outside Stagecraft fails the ledger check; the deploy it names makes it again', async () => {
    await lambda.send(new DeleteAliasCommand({ FunctionName: 'shop-worker-dev', Name: 'smoke' }));
    const report = await doctor(1);
    expect(failing(report)).toEqual(['ledger']);
    const details = checkOf(report, 'ledger')?.details ?? [];
    expect(details).toEqual([
      expect.stringMatching(
        // v1 (the second release kept the worker's version); the deploy named is of the release live there.
        /^shop-worker-dev smoke: is absent, the ledger says v1 \(revision 1, #\d+\); `stagecraft deploy dev --release r2-[0-9a-f]{8}` points it again$/,
      ),
    ]);

    await runHint(details[0], 3);
    expect(statuses(await doctor(0))).toEqual(CHECKS.map((name) => [name, 'ok']));
  }, 180_000);

  it('(c) other code published under a copied Stagecraft description fails the versions check', async () => {
    const original = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'shop-api-staging', Qualifier: '1' }),
    );
    const workerSha = first.functions.find((fn) => fn.function === 'worker')?.sha256 ?? '';
    const apiSha = first.functions.find((fn) => fn.function === 'api')?.sha256 ?? '';
    await lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: 'shop-api-staging',
        ZipFile: readFileSync(join(app.dir, '.stagecraft', 'artifacts', `${workerSha}.zip`)),
      }),
    );
    const forged = await lambda.send(
      new PublishVersionCommand({ FunctionName: 'shop-api-staging', Description: original.Description }),
    );
    expect(forged.Version).toBe('2');

    const report = await doctor(1);
    expect(failing(report)).toEqual(['versions']);
    expect(checkOf(report, 'versions')?.details).toEqual([
      `shop-api-staging v2: its code (sha256 ${workerSha.slice(0, 12)}) is not the artifact of ${first.release} api (${apiSha.slice(0, 12)}): it was changed outside Stagecraft; ` +
        'nothing points at it: delete it with `aws lambda delete-function --function-name shop-api-staging --qualifier 2`',
    ]);

    await lambda.send(new DeleteFunctionCommand({ FunctionName: 'shop-api-staging', Qualifier: '2' }));
    expect(statuses(await doctor(0))).toEqual(CHECKS.map((name) => [name, 'ok']));
  }, 180_000);

  it('(d) a stack template changed outside Stagecraft fails the stack check and the deploy it names puts it back; a deleted stack fails too', async () => {
    const held = JSON.parse(
      (await cloudformation.send(new GetTemplateCommand({ StackName: 'shop-staging' }))).TemplateBody ?? '{}',
    ) as { Resources: Record<string, unknown> };
    held.Resources['Tampered'] = { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'shop-tampered-staging' } };
    await cloudformation.send(
      new UpdateStackCommand({
        StackName: 'shop-staging',
        TemplateBody: JSON.stringify(held),
        Capabilities: ['CAPABILITY_IAM'],
      }),
    );

    const changed = await doctor(1);
    expect(failing(changed)).toEqual(['stack']);
    const details = checkOf(changed, 'stack')?.details ?? [];
    expect(details).toEqual([
      expect.stringMatching(
        /^shop-staging: its template was changed outside Stagecraft \(it holds [0-9a-f]{12}, Stagecraft applied [0-9a-f]{12}\); `stagecraft deploy staging` puts Stagecraft's back$/,
      ),
    ]);
    // What the hint says: a deploy sees the template the stack holds is not the one it applied.
    await runHint(details[0], 3);
    const repaired =
      (await cloudformation.send(new GetTemplateCommand({ StackName: 'shop-staging' }))).TemplateBody ?? '';
    expect(JSON.parse(repaired)).toEqual(JSON.parse((await cli(['synth', 'staging'])).stdout));
    expect(statuses(await doctor(0))).toEqual(CHECKS.map((name) => [name, 'ok']));

    await cloudformation.send(new DeleteStackCommand({ StackName: 'shop-prod' }));
    const deleted = await doctor(1);
    expect(failing(deleted)).toEqual(['stack']);
    expect(checkOf(deleted, 'stack')).toMatchObject({
      message: 'stacks are missing or were changed outside Stagecraft',
      details: [
        'shop-prod does not exist, yet prod was deployed there: its queues, tables and API are gone; `stagecraft deploy prod` creates it again',
      ],
    });
    expect((await cli(['doctor'], 1)).stdout).toMatch(
      /FAIL {2}stack {9}stacks are missing[\s\S]*some invariants do not hold/,
    );
  }, 180_000);
});

describe('doctor on aws (moto), single-stack: one function per name, aliases per environment', () => {
  const app = copyApp('aws-full');
  app.write(
    'stagecraft.yml',
    app.read('stagecraft.yml').replace('provider: aws', 'provider: aws\nstrategy: single-stack'),
  );
  let moto: Moto;
  let session: MotoSession | undefined;
  let lambda: LambdaClient;

  const cli = (args: string[], expectCode = 0) => runIn(app.dir, moto, args, expectCode);
  const doctor = async (expectCode: number) => (await cli(['doctor', '--json'], expectCode)).json<DoctorJson>();

  beforeAll(async () => {
    session = await startMotoSession();
    ({ moto, lambda } = session);
    await cli(['build']);
    await cli(['deploy', 'dev']);
    await cli(['deploy', 'prod']);
  }, 120_000);
  afterAll(async () => {
    await session?.stop();
    app.remove();
  }, 180_000);

  it("holds after deploys to both environments; moving `dev` onto prod's version fails the ledger check", async () => {
    const clean = await doctor(0);
    expect(statuses(clean)).toEqual(CHECKS.map((name) => [name, 'ok']));
    expect(checkOf(clean, 'stack')?.message).toBe('1 stack(s) hold the template Stagecraft applied (full)');
    expect(checkOf(clean, 'versions')?.message).toBe("6 version(s) run their release's artifact");

    // In single-stack, dev and prod publish their own versions of full-api: v1 for dev, v2 for prod.
    await lambda.send(new UpdateAliasCommand({ FunctionName: 'full-api', Name: 'dev', FunctionVersion: '2' }));
    const report = await doctor(1);
    expect(failing(report)).toEqual(['ledger']);
    const details = checkOf(report, 'ledger')?.details ?? [];
    expect(details).toEqual([
      expect.stringMatching(
        /^full-api dev: is v2 \(revision 1\), the ledger says v1 \(revision 1, #\d+\); `stagecraft rollback dev --function api --to 1` points it back at v1$/,
      ),
    ]);

    await cli([...(/`stagecraft ([^`]+)`/.exec(details[0] ?? '')?.[1] ?? '').split(' ')]);
    expect(statuses(await doctor(0))).toEqual(CHECKS.map((name) => [name, 'ok']));
  }, 180_000);
});
