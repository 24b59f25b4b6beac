/**
 * Config in the environment and secrets that never leak, through the real CLI on a fixture app:
 * layering and `${env:}` references, unresolved references stopping a deploy before anything
 * changes, the local secret store (stdin only, a 0600 key outside the app), a prod secret
 * reaching the prod handler and nowhere else (every file of the app and every output is
 * searched for it), config-only changes, wrong keys, and `config show` / `config diff`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyApp, runCli, type CliResult } from './helpers/cli.js';
import { startUp } from './helpers/up.js';

/** What `deploy --json` says: the promotion outcome of its one environment. */
interface DeployJson {
  environments: { functions: { function: string; version: number; published: boolean }[] }[];
}
interface StatusJson {
  environments: { name: string; functions: { function: string; live: { version: number; sha256: string } | null }[] }[];
}
interface LedgerJson {
  entries: {
    seq: number;
    kind: string;
    environment: string | null;
    function: string | null;
    version: number | null;
    detail: Record<string, unknown>;
  }[];
}
interface InvokeJson {
  ok: boolean;
  payload: Record<string, unknown> & { env: Record<string, string | null> };
  logs: string[];
  error?: { errorMessage: string; trace?: string[] };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** Secret values, all distinct, none a substring of anything else the app prints. */
const PAYMENT_KEY = `pk_live_${randomBytes(12).toString('hex')}`;
const ROTATED_KEY = `pk_live_${randomBytes(12).toString('hex')}`;
const DB_PASSWORD = `pw-${randomBytes(10).toString('hex')}`;
const TYPED_BY_MISTAKE = `pk_typo_${randomBytes(10).toString('hex')}`;
const SECRETS = [PAYMENT_KEY, ROTATED_KEY, DB_PASSWORD, TYPED_BY_MISTAKE];

describe('config and secrets', () => {
  const app = copyApp('config');
  const home = mkdtempSync(join(tmpdir(), 'stagecraft-home-'));
  const keyFile = join(home, 'config', 'stagecraft', 'secret.key');
  const outputs: string[] = [];
  afterAll(() => {
    app.remove();
    rmSync(home, { recursive: true, force: true });
  });

  /** Every run sees the temporary HOME, never the developer's key or one in the environment. */
  const cli = async (
    args: string[],
    options: { env?: Record<string, string>; input?: string } = {},
  ): Promise<CliResult> => {
    const result = await runCli([...args, '--dir', app.dir], {
      env: { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), STAGECRAFT_SECRET_KEY: '', ...options.env },
      ...(options.input === undefined ? {} : { input: options.input }),
    });
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  const ok = async (args: string[], options: { env?: Record<string, string>; input?: string } = {}) => {
    const result = await cli(args, options);
    expect(result.code, result.stderr).toBe(0);
    return result;
  };
  const withHost = { API_HOST: 'api.internal' };
  const ledger = async () => (await ok(['history', '--json'])).json<LedgerJson>().entries;
  const status = async () => (await ok(['status', '--json'])).json<StatusJson>();
  const live = (s: StatusJson, env: string, fn: string) =>
    s.environments.find((e) => e.name === env)?.functions.find((f) => f.function === fn)?.live;
  const invoke = async (fn: string, env: string, data: object = {}) =>
    cli(['invoke', fn, '--env', env, '--json', '--data', JSON.stringify(data)]);

  it('builds the app', async () => {
    await ok(['build', '--json']);
  });

  it('stops a deploy with a missing ${env:} or ${secret:} at exit 2, naming each, and changes nothing', async () => {
    const before = await ledger();
    const noHost = await cli(['deploy', 'dev']);
    expect(noHost.code).toBe(2);
    expect(noHost.stderr).toContain(
      'error: ${env:API_HOST} has no value for environment dev (config.API_URL, function api)',
    );
    expect(noHost.stderr).toContain('hint: set API_HOST in the environment of this command');

    const noSecrets = await cli(['deploy', 'prod', '--json'], { env: withHost });
    expect(noSecrets.code).toBe(2);
    const { error } = noSecrets.json<{ error: { code: string; details: string[]; hint: string } }>();
    expect(error.code).toBe('CONFIG_UNRESOLVED');
    expect(error.details).toEqual([
      'environments[prod].config.PAYMENT_KEY: ${secret:payment-key} has no value for environment prod',
      'environments[prod].config.DB_URL: ${secret:db-password} has no value for environment prod',
    ]);
    expect(error.hint).toContain('`stagecraft secret set prod payment-key`');
    expect(await ledger()).toEqual(before);
    expect(live(await status(), 'prod', 'api')).toBeNull();
    expect(() => statSync(keyFile)).toThrow(); // looking for secrets never makes a key
  });

  it('layers manifest < environment < function config and resolves ${env:} references with their defaults', async () => {
    await ok(['deploy', 'dev'], { env: withHost });
    const api = (await invoke('api', 'dev')).json<InvokeJson>();
    expect(api.payload.env).toEqual({
      LOG_LEVEL: 'debug',
      SHARED: 'from-function',
      REGION_NAME: 'eu-west-1',
      API_URL: 'https://api.internal/v1',
      FN_ONLY: 'yes',
      STAGECRAFT_ENV: 'dev',
    });
    expect(api.payload).toMatchObject({ paymentKeySha256: null, dbUrlSha256: null });
    const worker = (await invoke('worker', 'dev')).json<{ payload: { env: Record<string, unknown> } }>();
    expect(worker.payload.env).toEqual({
      LOG_LEVEL: 'debug',
      SHARED: 'from-dev',
      REGION_NAME: 'eu-west-1',
      API_URL: 'https://api.internal/v1',
      FN_ONLY: null,
      PAYMENT_KEY: false,
    });
  });

  it('reads a secret from stdin only, keeps the key in a 0600 file in the user config folder, and lists names, never values', async () => {
    for (const args of [
      ['secret', 'set', 'prod', 'payment-key', TYPED_BY_MISTAKE],
      ['secret', 'set', 'prod', 'payment-key', `--value=${TYPED_BY_MISTAKE}`],
    ]) {
      const refused = await cli(args, { input: PAYMENT_KEY });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('secret set takes no value on the command line');
    }
    const empty = await cli(['secret', 'set', 'prod', 'payment-key']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('no value was given on stdin');

    const first = await ok(['secret', 'set', 'prod', 'payment-key', '--json'], { input: `${PAYMENT_KEY}\n` });
    expect(first.json()).toMatchObject({ environment: 'prod', name: 'payment-key', revision: 1 });
    expect(first.stderr).toContain(`made a new secret key in ${keyFile} (mode 0600)`);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(relative(app.dir, keyFile).startsWith('..')).toBe(true);
    await ok(['secret', 'set', 'prod', 'db-password'], { input: DB_PASSWORD });
    const unused = await ok(['secret', 'set', 'dev', 'spare'], { input: 'spare-value' });
    expect(unused.stderr).toContain('nothing in stagecraft.yml uses ${secret:spare} in dev yet');

    const listed = (await ok(['secret', 'list', 'prod', '--json'])).json<{
      secrets: { name: string; set: boolean; revision: number; usedBy: string[]; changedBy: string }[];
    }>();
    expect(listed.secrets.map(({ name, set, usedBy, changedBy }) => ({ name, set, usedBy, changedBy }))).toEqual([
      { name: 'db-password', set: true, usedBy: ['environments[prod].config.DB_URL'], changedBy: 'test-runner' },
      { name: 'payment-key', set: true, usedBy: ['environments[prod].config.PAYMENT_KEY'], changedBy: 'test-runner' },
    ]);
    expect((await ok(['secret', 'list', 'dev'])).stdout).toContain('spare');
  });

  it('brings a prod secret to the prod handler, and masks it in its logs, its errors and what invoke prints', async () => {
    const deployed = await ok(['deploy', 'prod', '--json'], { env: withHost });
    expect(deployed.json<DeployJson>().environments[0]?.functions.map((fn) => fn.version)).toEqual([1, 1]);

    const leaked = await invoke('api', 'prod', { leak: true });
    expect(leaked.code, leaked.stderr).toBe(0);
    const result = leaked.json<InvokeJson>();
    expect(result.payload).toMatchObject({
      paymentKeySha256: sha256(PAYMENT_KEY),
      dbUrlSha256: sha256(`postgres://app:${DB_PASSWORD}@db.internal:5432/app`),
      env: { STAGECRAFT_ENV: 'prod', LOG_LEVEL: 'info' },
    });
    expect(result.logs.filter((line) => line.includes('****'))).toEqual([
      expect.stringMatching(/INFO\tpayment key is \*\*\*\*$/),
      expect.stringMatching(/INFO\t\{"dbUrl":"postgres:\/\/app:\*\*\*\*@db\.internal:5432\/app"\}$/),
      expect.stringMatching(/ERROR\tdb postgres:\/\/app:\*\*\*\*@db\.internal:5432\/app$/),
    ]);

    const failed = await invoke('api', 'prod', { fail: true });
    expect(failed.code).toBe(1);
    expect(failed.json<InvokeJson>().error?.errorMessage).toBe('cannot charge with ****');
    const echoed = await invoke('api', 'prod', { echoSecret: true });
    expect(echoed.json<InvokeJson>().payload['echoed']).toBe('****');

    const logs = await ok(['logs', 'api', '--env', 'prod']);
    expect(logs.stdout).toContain('payment key is ****');
  });

  it('runs the prod secret on `up` too, masked in the logs it writes', async () => {
    const up = await startUp(app.dir, {
      ports: 4,
      env: { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), STAGECRAFT_SECRET_KEY: '' },
    });
    try {
      const response = await fetch(`${up.urls['prod']}/pay`, { method: 'POST', body: JSON.stringify({ leak: true }) });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ paymentKeySha256: sha256(PAYMENT_KEY) });
    } finally {
      expect(await up.stop()).toBe(0);
      outputs.push(up.stderr());
    }
    const logs = await ok(['logs', 'api', '--env', 'prod']);
    expect(logs.stdout.match(/payment key is \*\*\*\*/g)?.length).toBe(2);
  }, 60_000);

  it('shows the resolved config with secrets masked and where each value comes from, and diffs two environments', async () => {
    const shown = (await ok(['config', 'show', 'prod', '--json'], { env: withHost })).json<{
      functions: {
        function: string;
        entries: { key: string; value: string; secret: boolean; source: { path: string; layer: string } }[];
      }[];
      missing: string[];
    }>();
    const api = Object.fromEntries(
      (shown.functions.find((fn) => fn.function === 'api')?.entries ?? []).map((entry) => [entry.key, entry]),
    );
    expect(api['PAYMENT_KEY']).toMatchObject({
      value: '****',
      secret: true,
      source: { layer: 'environment', path: 'environments[prod].config.PAYMENT_KEY' },
    });
    expect(api['DB_URL']).toMatchObject({ value: 'postgres://app:****@db.internal:5432/app', secret: true });
    expect(api['SHARED']).toMatchObject({ value: 'from-function', source: { layer: 'function' } });
    expect(api['API_URL']).toMatchObject({ value: 'https://api.internal/v1', source: { layer: 'manifest' } });
    expect(shown.missing).toEqual([]);
    const missing = await ok(['config', 'show', 'prod']);
    expect(missing.stderr).toContain('config.API_URL: ${env:API_HOST}');
    expect(missing.stdout).toMatch(/API_URL\s+\(no value: \$\{env:API_HOST\}\)/);

    const diff = (await ok(['config', 'diff', 'dev', 'prod', '--json'], { env: withHost })).json<{
      functions: {
        function: string;
        keys: {
          key: string;
          status: string;
          a: { value: string } | null;
          b: { value: string; source: { path: string } } | null;
        }[];
      }[];
    }>();
    const worker = diff.functions.find((fn) => fn.function === 'worker')?.keys ?? [];
    expect(worker.map((key) => [key.key, key.status])).toEqual([
      ['DB_URL', 'only-b'],
      ['LOG_LEVEL', 'differs'],
      ['PAYMENT_KEY', 'only-b'],
      ['SHARED', 'differs'],
    ]);
    expect(worker.find((key) => key.key === 'SHARED')).toMatchObject({
      a: { value: 'from-dev' },
      b: { value: 'from-manifest', source: { path: 'config.SHARED' } },
    });
    expect(worker.find((key) => key.key === 'PAYMENT_KEY')?.b?.value).toBe('****');
  });

  it('publishes a new version with the same sha256 for a config-only change, and records the keys changed', async () => {
    const before = await status();
    const seq = Math.max(...(await ledger()).map((entry) => entry.seq));

    await ok(['deploy', 'dev', '--json'], { env: { ...withHost, DEPLOY_REGION: 'us-west-2' } });
    await ok(['secret', 'set', 'prod', 'payment-key'], { input: ROTATED_KEY });
    const prod = (await ok(['deploy', 'prod', '--json'], { env: withHost })).json<DeployJson>().environments[0];
    expect(prod?.functions.map((fn) => [fn.function, fn.version, fn.published])).toEqual([
      ['api', 2, true],
      ['worker', 2, true],
    ]);

    const after = await status();
    for (const env of ['dev', 'prod']) {
      for (const fn of ['api', 'worker']) {
        expect(live(after, env, fn)?.version).toBe(2);
        expect(live(after, env, fn)?.sha256).toBe(live(before, env, fn)?.sha256);
      }
    }
    const published = (await ledger()).filter((entry) => entry.seq > seq && entry.kind === 'version.published');
    expect(
      published.map((entry) => [
        entry.environment,
        entry.function,
        entry.version,
        entry.detail['configChanged'],
        entry.detail['codeChanged'],
      ]),
    ).toEqual([
      ['dev', 'api', 2, ['REGION_NAME'], false],
      ['dev', 'worker', 2, ['REGION_NAME'], false],
      ['prod', 'api', 2, ['PAYMENT_KEY'], false],
      ['prod', 'worker', 2, ['PAYMENT_KEY'], false],
    ]);
    expect((await invoke('api', 'prod')).json<InvokeJson>().payload['paymentKeySha256']).toBe(sha256(ROTATED_KEY));
    expect((await invoke('api', 'dev')).json<InvokeJson>().payload.env['REGION_NAME']).toBe('us-west-2');
    // The same config again publishes nothing.
    const again = (await ok(['deploy', 'prod', '--json'], { env: withHost })).json<DeployJson>().environments[0];
    expect(again?.functions.every((fn) => !fn.published)).toBe(true);
  });

  it('refuses a wrong, malformed or missing key with a clear error, and changes nothing', async () => {
    const before = await ledger();
    const wrongKey = { STAGECRAFT_SECRET_KEY: randomBytes(32).toString('base64') };
    const wrongInvoke = await cli(['invoke', 'api', '--env', 'prod'], { env: wrongKey });
    expect(wrongInvoke.code).toBe(2);
    expect(wrongInvoke.stderr).toMatch(
      /error: the secret key from STAGECRAFT_SECRET_KEY \(key [0-9a-f]{16}\) is the wrong key for secret payment-key of prod, which was stored with key [0-9a-f]{16}/,
    );
    const wrongDeploy = await cli(['deploy', 'prod'], { env: { ...withHost, ...wrongKey } });
    expect(wrongDeploy.code).toBe(2);
    expect(wrongDeploy.stderr).toContain('is the wrong key for secret');
    const wrongSet = await cli(['secret', 'set', 'prod', 'other'], { env: wrongKey, input: 'x-value' });
    expect(wrongSet.code).toBe(2);
    expect(wrongSet.stderr).toContain('is the wrong key for this app');

    const malformed = await cli(['invoke', 'api', '--env', 'prod'], { env: { STAGECRAFT_SECRET_KEY: 'not-a-key' } });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('the secret key in STAGECRAFT_SECRET_KEY is not a 256-bit key');

    const elsewhere = mkdtempSync(join(tmpdir(), 'stagecraft-nokey-'));
    const noKey = await cli(['invoke', 'api', '--env', 'prod'], {
      env: { HOME: elsewhere, XDG_CONFIG_HOME: join(elsewhere, 'config') },
    });
    rmSync(elsewhere, { recursive: true, force: true });
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('there is no secret key to open secret payment-key of prod');
    expect(await ledger()).toEqual(before);
  });

  it('removes a secret: the next deploy stops, and versions that used it say why they cannot start', async () => {
    await ok(['secret', 'rm', 'prod', 'db-password']);
    const deploy = await cli(['deploy', 'prod'], { env: withHost });
    expect(deploy.code).toBe(2);
    expect(deploy.stderr).toContain('${secret:db-password} has no value for environment prod');
    const run = await cli(['invoke', 'api', '--env', 'prod']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /version 2 of configured-api-prod uses revision \d+ of secret db-password \(prod\), which was removed/,
    );
    const history = (await ok(['history', '--env', 'prod'])).stdout;
    expect(history).toMatch(/secret\s+secret\.removed\s+prod\s+db-password/);
  });

  it('never writes a secret value in clear: not in state.db, logs, artifacts or any file of the app, nor in any output', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk(app.dir);
    expect(files.some((file) => file.endsWith('state.db'))).toBe(true);
    expect(files.some((file) => file.includes(join('.stagecraft', 'logs')))).toBe(true);
    for (const file of files) {
      const data = readFileSync(file);
      for (const secret of SECRETS)
        expect(data.includes(Buffer.from(secret)), `${relative(app.dir, file)} holds a secret`).toBe(false);
    }
    expect(outputs.length).toBeGreaterThan(40);
    for (const text of outputs) for (const secret of SECRETS) expect(text.includes(secret)).toBe(false);
  });
});
