/**
 * The promotion loop on the aws provider, against a real moto_server, with shared state in
 * DynamoDB: examples/shop promoted dev → staging → prod (prod approved by a person), after which
 * `live` runs the release's artifact in every environment; a smoke failure in staging (moto's
 * queued lambda-simple responses stand in for a broken release) rolls dev back; and a promotion
 * while another process holds the DynamoDB lock is refused.
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { GetAliasCommand, GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, ROOT, runCli } from './helpers/cli.js';
import { startMotoSession, type Moto, type MotoSession, shopSmokeForMoto } from './helpers/moto.js';

interface BuildJson {
  release: string;
  functions: { function: string; sha256: string }[];
}
interface Outcome {
  status: string;
  release: string;
  failure?: { environment: string; step: string; reason: string };
  environments: { name: string; step: string }[];
}

const ENVS = ['dev', 'staging', 'prod'] as const;
const HEALTHY = JSON.stringify({ statusCode: 200, body: JSON.stringify({ status: 'ok' }) });
const BROKEN = JSON.stringify({ statusCode: 500, body: JSON.stringify({ status: 'broken' }) });

describe('aws provider on moto: promote examples/shop', () => {
  const app = copyApp('examples/shop', { insideRepo: true });
  shopSmokeForMoto(app);
  app.write(
    'stagecraft.yml',
    app
      .read('stagecraft.yml')
      .replace(/^runtime:/m, 'provider: aws\nstate: { backend: dynamodb, table: shop-state }\nruntime:'),
  );
  let moto: Moto;
  let session: MotoSession | undefined;
  let lambda: LambdaClient;
  let first: BuildJson;

  const cli = async (args: string[], expectCode = 0) => {
    const result = await runCli([...args, '--json', '--dir', app.dir], { env: moto.env, timeoutMs: 120_000 });
    expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(expectCode);
    return result;
  };
  const shaOf = (build: BuildJson, fn: string) => build.functions.find((entry) => entry.function === fn)?.sha256;
  /** What `aws lambda get-alias` would show, and the CodeSha256 of the version it names (as hex). */
  const live = async (fn: string, env: string) => {
    const alias = await lambda
      .send(new GetAliasCommand({ FunctionName: `shop-${fn}-${env}`, Name: 'live' }))
      .catch(() => undefined);
    if (!alias) return undefined;
    const version = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: `shop-${fn}-${env}`, Qualifier: alias.FunctionVersion }),
    );
    return {
      version: Number(alias.FunctionVersion),
      sha256: Buffer.from(version.CodeSha256 ?? '', 'base64').toString('hex'),
      // The release is in the version's description, not in a Lambda variable.
      release: (JSON.parse(version.Description ?? '{}') as { r?: string }).r,
    };
  };

  beforeAll(async () => {
    session = await startMotoSession();
    ({ moto, lambda } = session);
    first = (await cli(['build'])).json<BuildJson>();
  }, 120_000);
  afterAll(async () => {
    await session?.stop();
    app.remove();
  }, 180_000);

  it('promotes dev → staging → prod; after approval live runs the release artifact everywhere', async () => {
    // Three smoke tests per environment, and prod's run again right before its live moves.
    await moto.queueLambdaResponses(Array.from({ length: 12 }, () => HEALTHY));
    const paused = (await cli(['promote'])).json<Outcome>();
    expect(paused).toMatchObject({ status: 'awaiting-approval', release: first.release });
    expect(paused.environments.map((env) => env.step)).toEqual(['live', 'live', 'awaiting-approval']);
    expect(await live('api', 'prod')).toBeUndefined();
    const approved = (await cli(['approve', 'prod', '--by', 'Grace Hopper'])).json<Outcome>();
    expect(approved.status).toBe('succeeded');
    for (const env of ENVS) {
      for (const fn of ['api', 'report', 'worker']) {
        expect(await live(fn, env), `${fn} in ${env}`).toEqual({
          version: 1,
          sha256: shaOf(first, fn),
          release: first.release,
        });
      }
    }
    const report = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'shop-report-prod', Qualifier: 'live' }),
    );
    expect(report.Runtime).toBe('python3.12');
  }, 180_000);

  it('a smoke failure in staging rolls dev back and leaves staging and prod as they were', async () => {
    app.write('src/api.ts', app.read('src/api.ts').replace("status: 'ok',", "status: 'ok', revision: 2,"));
    const second = (await cli(['build'])).json<BuildJson>();
    expect(shaOf(second, 'api')).not.toBe(shaOf(first, 'api'));
    await moto.queueLambdaResponses([HEALTHY, HEALTHY, HEALTHY, BROKEN, BROKEN, BROKEN]);
    const failed = (await cli(['promote'], 1)).json<{ error?: unknown } & Outcome>();
    expect(failed.status).toBe('failed');
    expect(failed.failure).toMatchObject({ environment: 'staging', step: 'smoke' });
    for (const env of ENVS) {
      for (const fn of ['api', 'worker']) {
        expect(await live(fn, env), `${fn} in ${env}`).toEqual({
          version: 1,
          sha256: shaOf(first, fn),
          release: first.release,
        });
      }
    }
    // dev ran the new release before it was rolled back: its version 2 exists, live is off it.
    const devVersion2 = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'shop-api-dev', Qualifier: '2' }),
    );
    expect(Buffer.from(devVersion2.CodeSha256 ?? '', 'base64').toString('hex')).toBe(shaOf(second, 'api'));
    const history = (await cli(['history', '--env', 'dev'])).json<{
      entries: {
        kind: string;
        alias: string;
        version: number | null;
        previousVersion: number | null;
        detail: { rollback?: boolean };
      }[];
    }>().entries;
    expect(
      history
        .filter((entry) => entry.kind === 'alias.moved' && entry.detail.rollback === true && entry.alias === 'live')
        .map((entry) => [entry.previousVersion, entry.version]),
      // Only the api changed: the worker and the report kept their version 1 (Lambda publishes no new
      // version for unchanged code and config), so only the api's live moved, and moved back.
    ).toEqual([[2, 1]]);
  }, 180_000);

  it('refuses a promotion while another process holds the DynamoDB lock (exit 3)', async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [join(ROOT, 'test', 'fixtures', 'aws', 'hold-lock.mjs'), 'shop-state', 'shop', '', 'yes'],
      { env: { ...process.env, ...moto.env }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const held = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout?.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(out);
        });
        child.once('exit', (code) => reject(new Error(`lock holder exited ${code}`)));
      });
      expect(JSON.parse(held)).toMatchObject({ acquired: true });
      const refused = await cli(['promote'], 3);
      const error = refused.json<{ error: { code: string; message: string } }>().error;
      expect(error.code).toBe('LOCK_HELD');
      expect(error.message).toContain(`pid ${child.pid}`);
    } finally {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    }
    // The holder is gone: the next promotion takes its lock over (and its smoke tests pass).
    await moto.queueLambdaResponses(Array.from({ length: 9 }, () => HEALTHY));
    const resumed = await cli(['promote']);
    expect(resumed.stderr).toContain('took over the lock');
  }, 180_000);

  it('a second machine deploys a release it never built, taken from the shared state table by its digest', async () => {
    const machineB = copyApp('examples/shop', { insideRepo: true });
    shopSmokeForMoto(machineB);
    try {
      machineB.write('stagecraft.yml', app.read('stagecraft.yml'));
      const newest = (await cli(['status'])).json<{ latestRelease: string }>().latestRelease;
      const digest = newest.split('-')[1] ?? '';
      await moto.queueLambdaResponses([HEALTHY, HEALTHY, HEALTHY]);
      const deployed = await runCli(['deploy', 'dev', '--release', digest, '--json', '--dir', machineB.dir], {
        env: moto.env,
        timeoutMs: 120_000,
      });
      expect(deployed.code, deployed.stderr).toBe(0);
      expect(deployed.stderr).toMatch(
        new RegExp(`${newest} was built by another machine; taken from the shared state as r1-${digest}`),
      );
      const built = (await runCli(['history', '--json', '--dir', machineB.dir], { env: moto.env }))
        .json<{ entries: { kind: string; releaseId: string | null }[] }>()
        .entries.filter((entry) => entry.kind === 'release.built');
      expect(built.length).toBeGreaterThanOrEqual(2); // the shared ledger: both machines' records
      // Its artifacts were never on this machine: doctor finds them in S3, where machine A put them.
      const doctor = (await runCli(['doctor', '--json', '--dir', machineB.dir], { env: moto.env })).json<{
        checks: { name: string; status: string; message: string }[];
      }>();
      const artifacts = doctor.checks.find((check) => check.name === 'artifacts');
      expect(artifacts?.status, JSON.stringify(artifacts)).toBe('ok');
      expect(artifacts?.message).toMatch(/only on the platform/);
      const unknown = await runCli(['deploy', 'dev', '--release', 'ffffffff', '--dir', machineB.dir], {
        env: moto.env,
      });
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/no release ffffffff/);
    } finally {
      machineB.remove();
    }
  }, 180_000);
});
