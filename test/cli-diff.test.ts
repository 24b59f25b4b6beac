/**
 * `stagecraft diff <from> <to>` through the real CLI on the config fixture: a changed function,
 * an unchanged one, a changed config key and a secret set again (its name and revisions only,
 * never its value, in text and in --json), and a release already live reported as no change.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyApp, runCli, type CliResult } from './helpers/cli.js';

interface DiffJson {
  release: string;
  liveRelease: string | null;
  changes: boolean;
  functions: {
    function: string;
    code: string;
    config: {
      key: string;
      change: string;
      from?: string;
      to?: string;
      secrets?: { name: string; from: number | null; to: number | null }[];
    }[];
  }[];
}

const PAYMENT_KEY = `pk_live_${randomBytes(12).toString('hex')}`;
const ROTATED_KEY = `pk_live_${randomBytes(12).toString('hex')}`;
const DB_PASSWORD = `pw-${randomBytes(10).toString('hex')}`;

describe('stagecraft diff', () => {
  const app = copyApp('config');
  const home = mkdtempSync(join(tmpdir(), 'stagecraft-home-'));
  const outputs: string[] = [];
  afterAll(() => {
    app.remove();
    rmSync(home, { recursive: true, force: true });
  });
  const cli = async (args: string[], input?: string): Promise<CliResult> => {
    const result = await runCli([...args, '--dir', app.dir], {
      env: { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), STAGECRAFT_SECRET_KEY: '', API_HOST: 'api.internal' },
      ...(input === undefined ? {} : { input }),
    });
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  const ok = async (args: string[], input?: string) => {
    const result = await cli(args, input);
    expect(result.code, result.stderr).toBe(0);
    return result;
  };

  it('shows what the release live in dev would change in prod: code, config keys, secrets by revision', async () => {
    await ok(['secret', 'set', 'prod', 'payment-key'], PAYMENT_KEY);
    await ok(['secret', 'set', 'prod', 'db-password'], DB_PASSWORD);
    const first = (await ok(['build', '--json'])).json<{ release: string }>().release;
    await ok(['deploy', 'dev']);
    await ok(['deploy', 'prod']);

    const same = (await ok(['diff', 'dev', 'prod', '--json'])).json<DiffJson>();
    expect(same).toMatchObject({ release: first, liveRelease: first, changes: false });
    expect(same.functions.map((fn) => [fn.function, fn.code, fn.config.length])).toEqual([
      ['api', 'unchanged', 0],
      ['worker', 'unchanged', 0],
    ]);

    // api's code changes, worker's does not; LOG_LEVEL changes for both; payment-key is set again.
    app.write('src/api.ts', app.read('src/api.ts').replace("'FN_ONLY', ", "'FN_ONLY', 'EXTRA', "));
    app.write('stagecraft.yml', app.read('stagecraft.yml').replace('LOG_LEVEL: info', 'LOG_LEVEL: warn'));
    await ok(['secret', 'set', 'prod', 'payment-key'], ROTATED_KEY);
    const listed = (await ok(['secret', 'list', 'prod', '--json'])).json<{
      secrets: { name: string; revision: number }[];
    }>().secrets;
    const rotated = listed.find((secret) => secret.name === 'payment-key')?.revision;
    const second = (await ok(['build', '--json'])).json<{ release: string }>().release;
    await ok(['deploy', 'dev']);

    const diff = (await ok(['diff', 'dev', 'prod', '--json'])).json<DiffJson>();
    expect(diff).toMatchObject({ release: second, liveRelease: first, changes: true });
    const api = diff.functions.find((fn) => fn.function === 'api');
    const worker = diff.functions.find((fn) => fn.function === 'worker');
    expect(api?.code).toBe('changed');
    expect(worker?.code).toBe('unchanged');
    expect(api?.config).toContainEqual({ key: 'LOG_LEVEL', change: 'changed', from: 'info', to: 'warn' });
    expect(api?.config).toContainEqual({
      key: 'PAYMENT_KEY',
      change: 'changed',
      secrets: [{ name: 'payment-key', from: 1, to: rotated }],
    });
    expect(api?.config.map((change) => change.key)).not.toContain('DB_URL');
    // The prod environment's PAYMENT_KEY reaches every function, worker too.
    expect(worker?.config.map((change) => change.key)).toEqual(['LOG_LEVEL', 'PAYMENT_KEY']);

    const text = (await ok(['diff', 'dev', 'prod'])).stdout;
    expect(text).toMatch(/^api: code changes [0-9a-f]{12} → [0-9a-f]{12}$/m);
    expect(text).toMatch(/^worker: code unchanged [0-9a-f]{12}$/m);
    expect(text).toContain('config changed LOG_LEVEL: info → warn');
    expect(text).toContain(`config changed PAYMENT_KEY: secret payment-key @1 → @${rotated}`);

    // --release names the release explicitly; the older one against prod changes nothing.
    expect(
      (await ok(['diff', 'dev', 'prod', '--release', first, '--json']))
        .json<DiffJson>()
        .functions.find((fn) => fn.function === 'api')?.code,
    ).toBe('unchanged');
  });

  it('refuses an unknown environment with exit 2', async () => {
    const bad = await cli(['diff', 'dev', 'nowhere']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('no environment "nowhere"');
  });

  it('never prints a secret value', () => {
    for (const secret of [PAYMENT_KEY, ROTATED_KEY, DB_PASSWORD])
      for (const text of outputs) expect(text).not.toContain(secret);
  });
});
