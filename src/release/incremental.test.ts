// dev's incremental bundler, on the real esbuild and the build fixture app.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleOptions, resolveHandler } from './bundle.js';
import { incrementalBundler } from './incremental.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/build/app');
const appDir = mkdtempSync(join(tmpdir(), 'stagecraft-incremental-'));
cpSync(FIXTURE, appDir, { recursive: true });
afterAll(() => rmSync(appDir, { recursive: true, force: true }));

const optionsFor = (...handlers: string[]) =>
  bundleOptions(
    appDir,
    handlers.map((handler, index) => resolveHandler(appDir, `f${index}`, handler)),
  );
const text = (output: Awaited<ReturnType<ReturnType<typeof incrementalBundler>['build']>>): string =>
  output.outputFiles
    .filter((file) => file.path.endsWith('.mjs') || file.path.endsWith('.js'))
    .map((file) => file.text)
    .join('\n');

describe('incrementalBundler', () => {
  it('keeps the contexts it used last, and bundles anew from a fresh one what it let go', async () => {
    const bundler = incrementalBundler(2);
    try {
      const api = optionsFor('src/api.handler');
      const first = text(await bundler.build(api));
      await bundler.build(optionsFor('src/worker.handler'));
      expect(bundler.open).toBe(2);
      // Used again: now the most recent, so the next new one lets the worker's context go.
      await bundler.build(api);
      await bundler.build(optionsFor('src/esm.handler', 'src/legacy.handler'));
      expect(bundler.open).toBe(2);
      // The worker again, from a fresh context, after an edit: the edit is in it.
      writeFileSync(join(appDir, 'src/worker.ts'), `${'export const handler = async () => "edited-worker";'}\n`);
      expect(text(await bundler.build(optionsFor('src/worker.handler')))).toContain('edited-worker');
      expect(bundler.open).toBe(2);
      // The api's context was the least recent one: gone, and its bundle is the same from a fresh one.
      expect(text(await bundler.build(api))).toBe(first);
    } finally {
      await bundler.dispose();
    }
    expect(bundler.open).toBe(0);
  });
});
