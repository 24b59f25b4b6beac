// The handler's sandbox: each escape a Lambda function does not have is denied (the state
// database next to the code, the secret key file, the host's /proc), a normal handler is not
// bothered, and two environments do not share /tmp. With bwrap, and with Node's permission model.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { detectSandbox, ExecutionEnvironment, type FunctionSpec, type SandboxChoice } from './index.js';
import { environmentProcesses } from './process-tree.js';
import { gone } from '../../test/helpers/processes.js';

const FIXTURE = fileURLToPath(new URL('../../test/fixtures/runtime/sandbox', import.meta.url));
// An app as `up` lays it out: the state database two folders above the unpacked code.
const app = mkdtempSync(join(tmpdir(), 'stagecraft-sandbox-'));
const codeDir = join(app, '.stagecraft', 'code', 'abc123');
mkdirSync(codeDir, { recursive: true });
cpSync(FIXTURE, codeDir, { recursive: true });
writeFileSync(join(app, '.stagecraft', 'state.db'), 'STATE-DATABASE');
// A key file in the host's home, where Stagecraft keeps the real one (~/.config/stagecraft).
const keyDir = mkdtempSync(join(homedir(), '.stagecraft-sandbox-test-'));
const keyFile = join(keyDir, 'secret.key');
writeFileSync(keyFile, 'KEY-MATERIAL');
process.env['STAGECRAFT_PROBE'] = 'HOST-ENVIRONMENT';

const envs: ExecutionEnvironment[] = [];
afterEach(async () => {
  await Promise.all(envs.splice(0).map((env) => env.stop()));
});
afterAll(() => {
  rmSync(app, { recursive: true, force: true });
  rmSync(keyDir, { recursive: true, force: true });
});

const bwrap = detectSandbox();
const choices: Array<[string, SandboxChoice]> = [['node-permission', { bwrap: undefined, off: false }]];
// .ci/run installs bubblewrap: on a machine without it, this half is the one that must fail.
choices.unshift(['bwrap', bwrap]);

function environment(handler: string, sandbox: SandboxChoice, warnings: string[] = []): ExecutionEnvironment {
  const spec: FunctionSpec = {
    functionName: 'shop-probe-dev',
    version: '1',
    invokedArn: 'arn:aws:lambda:us-east-1:000000000000:function:shop-probe-dev',
    codeDir,
    handler,
    runtime: 'nodejs20.x',
    memoryMb: 256,
    timeoutSec: 10,
    environment: {},
    region: 'us-east-1',
    ephemeralStorageMb: 64,
  };
  const env = new ExecutionEnvironment(spec, { sandbox, warn: (message) => warnings.push(message) });
  envs.push(env);
  return env;
}

async function answer<T>(env: ExecutionEnvironment, event: unknown): Promise<T> {
  const outcome = await env.invoke(JSON.stringify(event));
  if (!outcome.ok) throw new Error(`${outcome.error.errorType}: ${outcome.error.errorMessage}`);
  return JSON.parse(outcome.payload) as T;
}

type Attempt = { ok: boolean; value?: string; code?: string };

describe.each(choices)('sandbox: %s', (kind, sandbox) => {
  it('is the sandbox asked for', () => {
    expect(kind === 'bwrap' ? sandbox.bwrap : 'node').toBeDefined();
  });

  it('denies ../../state.db, the key file and the host process’s environment', async () => {
    const env = environment('probe.read', sandbox);
    const results = await answer<Attempt[]>(env, {
      paths: ['../../state.db', join(app, '.stagecraft', 'state.db'), keyFile, `/proc/${process.pid}/environ`],
    });
    expect(env.sandboxKind).toBe(kind);
    for (const result of results) expect(result).toMatchObject({ ok: false });
    expect(JSON.stringify(results)).not.toMatch(/STATE-DATABASE|KEY-MATERIAL|HOST-ENVIRONMENT/);
  });

  it('lets a normal handler read its own files and write its temporary folder, and keeps two environments’ apart', async () => {
    const a = environment('probe.files', sandbox);
    const b = environment('probe.files', sandbox);
    // bwrap gives Lambda's /tmp itself (a hard-coded path works); Node's permission model a private TMPDIR.
    const dir = kind === 'bwrap' ? '/tmp' : undefined;
    const wrote = await answer<{ own: Attempt; written: Attempt; mark: Attempt }>(a, { write: 'from a', dir });
    expect(wrote.own).toEqual({ ok: true, value: 'own data\n' });
    expect(wrote.written).toMatchObject({ ok: true });
    expect(wrote.mark).toEqual({ ok: true, value: 'from a' });
    const other = await answer<{ mark: Attempt }>(b, { dir });
    expect(other.mark).toMatchObject({ ok: false, code: 'ENOENT' });
    expect((await answer<{ mark: Attempt }>(a, { dir })).mark).toEqual({ ok: true, value: 'from a' });
  });
});

describe('bwrap', () => {
  it('takes a detached grandchild down with the environment', async () => {
    const env = environment('probe.detached', bwrap);
    await answer(env, {});
    const marker = `AWS_LAMBDA_LOG_STREAM_NAME=${env.logStreamName}`;
    const inside = environmentProcesses(env.pid!, marker);
    expect(inside.length).toBeGreaterThan(1); // bwrap's init, the runtime, sleep
    await env.stop();
    for (const pid of inside) expect(await gone(pid)).toBe(true);
  });

  it('says plainly when there is no sandbox', async () => {
    const warnings: string[] = [];
    const env = environment('probe.files', { bwrap: undefined, off: true }, warnings);
    await env.start();
    expect(env.sandboxKind).toBe('none');
    expect(warnings.join('\n')).toMatch(
      /^No sandbox: nodejs20\.x handlers run as this user and can read the state directory/,
    );
  });
});
