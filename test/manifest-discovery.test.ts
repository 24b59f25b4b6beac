/** The manifest is found from any folder inside the app, as git finds its repository; a misnamed one gets a hint. */
import { mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';

describe('finding the manifest', () => {
  const app = copyApp('basic');
  const empty = mkdtempSync(join(tmpdir(), 'stagecraft-nothing-'));
  afterAll(() => {
    app.remove();
    rmSync(empty, { recursive: true, force: true });
  });

  it('searches upwards from a subfolder', async () => {
    const deep = join(app.dir, 'src', 'deeper');
    mkdirSync(deep, { recursive: true });
    const result = await runCli(['validate', '--json'], { cwd: deep });
    expect(result.code, result.stderr).toBe(0);
    expect(result.json()).toMatchObject({ ok: true, app: 'basic' });
    const withDir = await runCli(['validate', '--dir', join(app.dir, 'src')]);
    expect(withDir.code, withDir.stderr).toBe(0);
  });

  it('names stagecraft.yaml instead of ignoring it, and says where it looked', async () => {
    renameSync(join(app.dir, 'stagecraft.yml'), join(app.dir, 'stagecraft.yaml'));
    const result = await runCli(['validate'], { cwd: join(app.dir, 'src') });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/found .*stagecraft\.yaml; Stagecraft reads stagecraft\.yml/);
    expect(result.stderr).toMatch(/rename it to stagecraft\.yml/);
    renameSync(join(app.dir, 'stagecraft.yaml'), join(app.dir, 'stagecraft.yml'));
    const nothing = await runCli(['validate', '--dir', empty]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/no stagecraft\.yml in .* or any folder above it/);
  });
});
