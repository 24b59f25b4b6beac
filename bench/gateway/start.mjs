#!/usr/bin/env node
// bench/gateway's start, many times: start → first 200 of the in-process baseline and of
// `stagecraft up`, in rounds (each round starts every server once, in turn, so that the machine's
// drift falls on all alike), medians reported. run.mjs measures one start of each per run; this is
// for a difference of tens of milliseconds. With BENCH_CLI_BEFORE=path/to/main.js, another build of
// the CLI is measured in the same rounds, on an app of its own (the manifest cache is per CLI build).
// Usage: node bench/gateway/start.mjs [rounds=15]
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, prepareApp, startTimes } from './app.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const rounds = Number(process.argv[2] ?? 15);
const cli = join(here, '..', '..', 'dist', 'cli', 'main.js');
const before = process.env.BENCH_CLI_BEFORE;

const app = join(here, '.app');
const bundled = prepareApp(app, cli);
const servers = [
  { name: 'baseline', args: (port) => [join(here, 'baseline.mjs'), bundled, 'handler', String(port)], path: '/hello' },
  { name: 'up', args: (port) => [cli, 'up', '--port', String(port), '--dir', app], offset: 1, path: '/hello' },
];
const beforeApp = join(here, '.app-before');
if (before !== undefined) {
  prepareApp(beforeApp, before);
  servers.push({
    name: 'up before',
    args: (port) => [before, 'up', '--port', String(port), '--dir', beforeApp],
    offset: 1,
    path: '/hello',
  });
}

const times = await startTimes(servers, rounds);
const baseline = median(times.get('baseline'));
const result = {
  rounds,
  startMs: Object.fromEntries([...times].map(([name, values]) => [name, { median: median(values), all: values }])),
  // up's start ÷ the baseline's (issue 12 §3: at most 2).
  startRatio: Object.fromEntries(
    [...times]
      .filter(([name]) => name !== 'baseline')
      .map(([name, values]) => [name, Number((median(values) / baseline).toFixed(2))]),
  ),
};
console.log(JSON.stringify(result, null, 2));
rmSync(app, { recursive: true, force: true });
rmSync(beforeApp, { recursive: true, force: true });
