#!/usr/bin/env node
// bench/dev/contexts: esbuild's memory under `dev`'s incremental bundler, with its kept contexts
// bounded (src/release/incremental.ts) and with every context kept, in the same run: bench/build's
// app of N functions bundled as a first build does (four calls), then E functions edited one by one
// (a call and a context each). Prints the esbuild process's RSS after each phase.
// Usage: node bench/dev/contexts.mjs [N=50] [E=30]
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { functionName, generateApp } from '../lib/app.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', '..', 'dist', 'release');
const { incrementalBundler, KEPT_CONTEXTS } = await import(join(dist, 'incremental.js'));
const { bundleOptions, resolveHandler } = await import(join(dist, 'bundle.js'));
const count = Number(process.argv[2] ?? 50);
const edits = Math.min(count, Number(process.argv[3] ?? 30));
// Inside the repository, so the functions resolve their npm dependencies from its node_modules.
const app = join(here, '.app-contexts');

const options = (indexes) =>
  bundleOptions(
    app,
    indexes.map((i) => resolveHandler(app, functionName(i), `src/${functionName(i)}.handler`)),
  );
/** RSS in MB of esbuild's service, the one child process of this one. */
function esbuildRss() {
  const [pid] = execFileSync('pgrep', ['-P', String(process.pid), '-f', 'esbuild'], { encoding: 'utf8' }).split('\n');
  return Math.round(Number(execFileSync('ps', ['-o', 'rss=', '-p', pid], { encoding: 'utf8' })) / 1024);
}

async function run(kept) {
  const bundler = incrementalBundler(kept);
  const size = Math.ceil(count / 4);
  for (let start = 0; start < count; start += size)
    await bundler.build(options(Array.from({ length: Math.min(size, count - start) }, (_, i) => start + i)));
  const afterFirst = esbuildRss();
  for (let i = 0; i < edits; i++) await bundler.build(options([i]));
  const result = {
    kept: Number.isFinite(kept) ? kept : 'all',
    contexts: bundler.open,
    afterFirstBuildMB: afterFirst,
    afterEditsMB: esbuildRss(),
  };
  await bundler.dispose();
  return result;
}

generateApp(app, count, ['dev']);
try {
  const bounded = await run(KEPT_CONTEXTS);
  const unbounded = await run(Number.POSITIVE_INFINITY);
  console.log(JSON.stringify({ functions: count, edits, bounded, unbounded }, null, 2));
} finally {
  rmSync(app, { recursive: true, force: true });
}
