/** Secret revisions are numbered per secret: the first value of a secret is revision 1, whatever else is stored. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';

describe('secret revisions', () => {
  const app = copyApp('basic');
  const home = mkdtempSync(join(tmpdir(), 'stagecraft-secret-home-'));
  afterAll(() => {
    app.remove();
    rmSync(home, { recursive: true, force: true });
  });
  const set = async (env: string, name: string, value: string) => {
    const result = await runCli(['secret', 'set', env, name, '--json', '--dir', app.dir], {
      input: value,
      env: { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), STAGECRAFT_SECRET_KEY: '' },
    });
    expect(result.code, result.stderr).toBe(0);
    return result.json<{ revision: number }>().revision;
  };

  it('counts each secret on its own, and never reuses a number after rm', async () => {
    expect(await set('prod', 'a', 'one')).toBe(1);
    expect(await set('prod', 'a', 'two')).toBe(2);
    expect(await set('prod', 'b', 'three')).toBe(1);
    expect(await set('staging', 'a', 'four')).toBe(1);
    const removed = await runCli(['secret', 'rm', 'prod', 'a', '--dir', app.dir]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(await set('prod', 'a', 'five')).toBe(3);
    const listed = await runCli(['secret', 'list', 'prod', '--json', '--dir', app.dir]);
    expect(
      listed
        .json<{ secrets: { name: string; revision: number }[] }>()
        .secrets.map((secret) => [secret.name, secret.revision]),
    ).toEqual([
      ['a', 3],
      ['b', 1],
    ]);
  });
});
