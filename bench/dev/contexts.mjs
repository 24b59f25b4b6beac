#!/usr/bin/env node
// bench/dev/contexts: esbuild's memory under `dev`'s incremental bundler, with its kept contexts
// bounded (src/release/incremental.ts) and with every context kept, alternating, each in a process
// of its own (so each has an esbuild service of its own): bench/build's app of N functions bundled
// as a first build does (four calls), then E functions edited one by one (a call and a context
// each). Reports the esbuild process's RSS after each phase, medians over the rounds.
// Usage: node bench/dev/contexts.mjs [N=50] [E=30] [rounds=3]
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { functionName, generateApp } from '../lib/app.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', '..', 'dist', 'release');
// A measurement's own process: `--measure bounded|all N E`.
const measuring = process.argv[2] === '--measure';
const args = measuring ? process.argv.slice(4) : process.argv.slice(2);
const count = Number(args[0] ?? 50);
const edits = Math.min(count, Number(args[1] ?? 30));
const rounds = Number(args[2] ?? 3);
// Inside the repository, so the functions resolve their npm dependencies from its node_modules.
const app = join(here, '.app-contexts');

/** RSS in MB of esbuild's service, the one esbuild child of this process. */
function esbuildRss() {
  const [pid] = execFileSync('pgrep', ['-P', String(process.pid), '-f', 'esbuild'], { encoding: 'utf8' }).split('\n');
  return Math.round(Number(execFileSync('ps', ['-o', 'rss=', '-p', pid], { encoding: 'utf8' })) / 1024);
}

/** One measurement, in this process: 'bounded' (the bundler's own bound) or 'all' contexts kept. */
async function measure(which) {
  const { incrementalBundler, KEPT_CONTEXTS } = await import(join(dist, 'incremental.js'));
  const { bundleOptions, resolveHandler } = await import(join(dist, 'bundle.js'));
  const options = (indexes) =>
    bundleOptions(
      app,
      indexes.map((i) => resolveHandler(app, functionName(i), `src/${functionName(i)}.handler`)),
    );
  const bundler = incrementalBundler({ kept: which === 'all' ? Number.POSITIVE_INFINITY : KEPT_CONTEXTS });
  const size = Math.ceil(count / 4);
  for (let start = 0; start < count; start += size)
    await bundler.build(options(Array.from({ length: Math.min(size, count - start) }, (_, i) => start + i)));
  const afterFirstBuildMB = esbuildRss();
  for (let i = 0; i < edits; i++) await bundler.build(options([i]));
  const result = { contexts: bundler.open, afterFirstBuildMB, afterEditsMB: esbuildRss() };
  await bundler.dispose();
  return result;
}

if (measuring) {
  console.log(JSON.stringify(await measure(process.argv[3])));
} else {
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  generateApp(app, count, ['dev']);
  try {
    const runs = { bounded: [], all: [] };
    for (let round = 0; round < rounds; round++) {
      for (const which of round % 2 === 0 ? ['bounded', 'all'] : ['all', 'bounded']) {
        const stdout = execFileSync(
          process.execPath,
          [fileURLToPath(import.meta.url), '--measure', which, String(count), String(edits)],
          {
            encoding: 'utf8',
          },
        );
        runs[which].push(JSON.parse(stdout));
      }
    }
    const summary = Object.fromEntries(
      Object.entries(runs).map(([which, results]) => [
        which,
        {
          contexts: results[0].contexts,
          afterFirstBuildMB: median(results.map((r) => r.afterFirstBuildMB)),
          afterEditsMB: median(results.map((r) => r.afterEditsMB)),
          all: results,
        },
      ]),
    );
    console.log(JSON.stringify({ functions: count, edits, rounds, ...summary }, null, 2));
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
}
