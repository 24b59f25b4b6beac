/**
 * A Python function on the aws provider, against a real moto_server: built once (its dependency
 * taken as a manylinux-compatible wheel for Lambda's Python), promoted dev → prod, and `live`
 * in both environments runs Runtime python3.12 with the release's artifact, byte for byte.
 */
import { GetAliasCommand, GetFunctionConfigurationCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { startMotoSession, type Moto, type MotoSession } from './helpers/moto.js';
import { buildWheel } from './helpers/python-wheel.js';

interface BuildJson {
  release: string;
  functions: { function: string; sha256: string }[];
}

describe('aws provider on moto: a Python function', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-aws-python-'));
  const write = (file: string, text: string) => {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), text);
  };
  let moto: Moto;
  let session: MotoSession | undefined;
  let lambda: LambdaClient;

  const cli = async (args: string[]) => {
    const result = await runCli([...args, '--json', '--dir', dir], { env: moto.env, timeoutMs: 180_000 });
    expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
    return result;
  };

  beforeAll(async () => {
    buildWheel('1.0.0', join(dir, 'wheels'));
    write(
      'stagecraft.yml',
      'app: pyaws\nprovider: aws\nruntime: python3.12\nenvironments:\n  - name: dev\n  - name: prod\nfunctions:\n  report:\n    code: report\n    handler: app.handler\n    events: [{ http: GET /report }]\n',
    );
    write(
      'report/app.py',
      'import tinydep\n\n\ndef handler(event, context):\n    return {"statusCode": 200, "body": tinydep.shout("report")}\n',
    );
    write('report/requirements.txt', '--no-index\n--find-links ../wheels\ntinydep==1.0.0\n');
    session = await startMotoSession();
    ({ moto, lambda } = session);
  }, 180_000);
  afterAll(async () => {
    await session?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploys and promotes it: live runs Runtime python3.12 and the release artifact in every environment', async () => {
    const build = (await cli(['build'])).json<BuildJson>();
    const sha = build.functions.find((fn) => fn.function === 'report')?.sha256;
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    const promoted = (await cli(['promote'])).json<{ status: string; release: string }>();
    expect(promoted).toMatchObject({ status: 'succeeded', release: build.release });
    for (const env of ['dev', 'prod']) {
      const alias = await lambda.send(new GetAliasCommand({ FunctionName: `pyaws-report-${env}`, Name: 'live' }));
      const version = await lambda.send(
        new GetFunctionConfigurationCommand({ FunctionName: `pyaws-report-${env}`, Qualifier: alias.FunctionVersion }),
      );
      expect(version.Runtime).toBe('python3.12');
      expect(version.Handler).toBe('app.handler');
      expect(Buffer.from(version.CodeSha256 ?? '', 'base64').toString('hex')).toBe(sha);
    }
  }, 240_000);
});
