#!/usr/bin/env node
// How much of the two cores esbuild leaves idle while it bundles an app's functions, in one call or
// in N calls one after another (the shape a build that zips while it bundles would need): wall
// time, when each call is done, and the machine's busy and idle CPU time from /proc/stat (Linux).
// Usage: npm run build && node bench/build/run.mjs (it generates .app-x*) && node bench/build/batches.mjs APP [calls=1]
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const esbuild = createRequire(import.meta.url)('esbuild');
const { bundleOptions, resolveHandler } = await import(join(root, 'dist', 'release', 'bundle.js'));
const app = resolve(process.argv[2] ?? '');
const calls = Number(process.argv[3] ?? 1);
const handlers = readdirSync(join(app, 'src'))
  .filter((file) => /^fn\d+\.ts$/.test(file))
  .map((file) => `src/${file.replace(/\.ts$/, '')}.handler`);
const targets = handlers.map((handler, index) => resolveHandler(app, `f${index}`, handler));

/** [busy, idle] ms of every core together since boot (clock ticks of 10 ms). */
function cpuMs() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq] = fields;
  return [(user + nice + system + irq + softirq) * 10, (idle + iowait) * 10];
}

const started = performance.now();
const [busy0, idle0] = cpuMs();
const size = Math.ceil(targets.length / calls);
const done = [];
for (let i = 0; i < targets.length; i += size) {
  await esbuild.build(bundleOptions(app, targets.slice(i, i + size)));
  done.push(Math.round(performance.now() - started));
}
const [busy1, idle1] = cpuMs();
console.log(
  JSON.stringify({
    functions: targets.length,
    calls,
    wallMs: Math.round(performance.now() - started),
    doneAtMs: done,
    busyMs: busy1 - busy0,
    idleMs: idle1 - idle0,
  }),
);
