/**
 * The handler's sandbox under `up`, through the gateway: the state database next to the code, the
 * secret key file and `up`'s own environment (/proc/<up pid>/environ) cannot be read; /tmp works.
 * The prewarmed environment is the runtime process `up` booted as it started (an early spare,
 * src/cli/early-spares.ts): sandboxed around its own slot, which is gone once `up` stops.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';
import { startUp, type RunningUp } from './helpers/up.js';

describe('up: the handler sandbox', () => {
  const app = copyApp('sandbox');
  // Stagecraft's key file where it keeps it: under XDG_CONFIG_HOME (here one of the test's own).
  const config = join(app.dir, 'xdg');
  const keyFile = join(config, 'stagecraft', 'key');
  let up: RunningUp;
  let url = '';
  beforeAll(async () => {
    mkdirSync(join(config, 'stagecraft'), { recursive: true });
    writeFileSync(keyFile, 'KEY-MATERIAL');
    for (const args of [['build'], ['deploy', 'dev']]) {
      const result = await runCli([...args, '--dir', app.dir]);
      expect(result.code, result.stderr).toBe(0);
    }
    up = await startUp(app.dir, { ports: 3, env: { XDG_CONFIG_HOME: config, STAGECRAFT_PROBE: 'HOST-ENVIRONMENT' } });
    url = up.urls['dev'] ?? '';
  }, 120_000);
  const slots = () => readdirSync(join(app.dir, '.stagecraft', 'code')).filter((name) => name.startsWith('.spare-'));
  afterAll(async () => {
    expect(await up?.stop()).toBe(0);
    expect(slots()).toEqual([]);
    rmSync(config, { recursive: true, force: true });
    app.remove();
  });

  const read = async (path: string) =>
    (await (await fetch(`${url}/read?path=${encodeURIComponent(path)}`)).json()) as { ok: boolean; value?: string };

  it('denies ../../state.db, the key file and up’s own environment', async () => {
    expect(existsSync(join(app.dir, '.stagecraft', 'state.db'))).toBe(true);
    for (const path of [
      '../../state.db',
      join(app.dir, '.stagecraft', 'state.db'),
      keyFile,
      `/proc/${up.pid}/environ`,
    ]) {
      const result = await read(path);
      expect(result, path).toMatchObject({ ok: false });
    }
    expect(up.stderr()).not.toMatch(/No sandbox/);
  });

  it('serves from the runtime process booted as up started, in its own slot', async () => {
    const [slot, ...others] = slots();
    expect(others).toEqual([]);
    const own = join(app.dir, '.stagecraft', 'code', slot ?? 'none', 'src', 'probe.mjs');
    // Only the code folder of the environment is visible inside the sandbox: this one is the slot.
    expect(await read(own)).toMatchObject({ ok: true });
  });

  it('lets the handler write a hard-coded /tmp path and read its own code', async () => {
    const written = (await (await fetch(`${url}/tmp?write=hello`)).json()) as {
      mark: { value: string };
      own: { ok: boolean };
    };
    expect(written).toEqual({ mark: { ok: true, value: 'hello' }, own: { ok: true, value: 'true' } });
  });
});
