// dev's incremental bundler, on the real esbuild and the build fixture app.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleOptions, loadEsbuild, resolveHandler, type BundleOptions, type BundleOutput } from './bundle.js';
import { incrementalBundler } from './incremental.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/build/app');
const appDir = mkdtempSync(join(tmpdir(), 'stagecraft-incremental-'));
cpSync(FIXTURE, appDir, { recursive: true });
afterAll(() => rmSync(appDir, { recursive: true, force: true }));

const optionsFor = (...handlers: string[]): BundleOptions =>
  bundleOptions(
    appDir,
    handlers.map((handler, index) => resolveHandler(appDir, `f${index}`, handler)),
  );
const text = (output: BundleOutput): string =>
  output.outputFiles
    .filter((file) => !file.path.endsWith('.map'))
    .map((file) => file.text)
    .join('\n');
/** The handlers a context bundles, by its options' entry points. */
const named = (options: BundleOptions): string => JSON.stringify(options.entryPoints);

describe('incrementalBundler', () => {
  it('keeps the contexts it used last, disposes the others once their rebuild is done', async () => {
    const made: string[] = [];
    const disposed: string[] = [];
    const bundler = incrementalBundler({
      kept: 2,
      createContext: async (options) => {
        const context = await loadEsbuild().context(options);
        made.push(named(options));
        const dispose = context.dispose.bind(context);
        context.dispose = async () => {
          disposed.push(named(options));
          await dispose();
        };
        return context;
      },
    });
    const api = optionsFor('src/api.handler');
    const worker = optionsFor('src/worker.handler');
    const pair = optionsFor('src/esm.handler', 'src/legacy.handler');
    try {
      const first = text(await bundler.build(api));
      await bundler.build(worker);
      // The api used again is the most recent: the pair's context takes the worker's place.
      await bundler.build(api);
      await bundler.build(pair);
      expect(bundler.open).toBe(2);
      await new Promise((resolve) => setImmediate(resolve));
      expect(disposed).toEqual([named(worker)]);
      // Let go, then edited: a fresh context bundles the edit, and the api's (least recent) goes.
      writeFileSync(join(appDir, 'src/worker.ts'), 'export const handler = async () => "edited-worker";\n');
      expect(text(await bundler.build(worker))).toContain('edited-worker');
      expect(made).toEqual([named(api), named(worker), named(pair), named(worker)]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(disposed).toEqual([named(worker), named(api)]);
      // Built again from a fresh context, the api's bundle is the same.
      expect(text(await bundler.build(api))).toBe(first);
    } finally {
      await bundler.dispose();
    }
    expect(bundler.open).toBe(0);
    expect([...disposed].sort()).toEqual([...made].sort());
  });
});
