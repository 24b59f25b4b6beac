#!/usr/bin/env node
// bench/gateway: requests/s and latency through `stagecraft up` (gateway → warm execution
// environment → handler) against a plain node:http server calling the same handler in-process,
// measured in the same run with autocannon at 1 and 50 connections; start-to-first-200 of both
// (the median of START_ROUNDS alternating starts, app.mjs);
// RSS of each process tree and CPU per request of each process. Also measured: floor.mjs, the
// least any server with a process boundary per request can do, which bounds what `up` can reach;
// the target is `up` at 0.7× the floor's requests/s at 50 connections (issue 12 §3). The JSON ends
// with `check`, the figures `npm run bench:check` compares.
// Usage: node bench/gateway/run.mjs [seconds per run, default 10]   (BENCH_CLI=path/to/main.js: another CLI)
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { treePids } from '../lib/system.mjs';
import { freePorts } from '../lib/system.mjs';
import { firstOk, median, prepareApp, startTimes } from './app.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// BENCH_CLI: another build of the CLI to measure (a "before" in bench/RESULTS.md), same baseline and floor.
const cli = process.env.BENCH_CLI ?? join(here, '..', '..', 'dist', 'cli', 'main.js');
const seconds = Number(process.argv[2] ?? 10);
const app = join(here, '.app');

/** RSS of a process and all its descendants, in MB. */
function treeRssMb(pid) {
  let total = 0;
  for (const p of treePids(pid)) {
    try {
      const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      total += rss ? Number(rss[1]) : 0;
    } catch {
      /* gone */
    }
  }
  return Math.round(total / 1024);
}

/** CPU time (user + system) a process has used so far, in µs; 0 once it is gone. */
function cpuMicros(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * (1_000_000 / 100); // clock ticks of 10 ms
  } catch {
    return 0;
  }
}

function load(url, connections) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: seconds, pipelining: 1 }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
  });
}

async function measure(name, command, args, url) {
  const started = performance.now();
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  // A server that dies before answering (a port taken meanwhile, say) ends the run instead of hanging it.
  const died = new Promise((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`${name} exited before its first 200 (${signal ?? code})`))),
  );
  died.catch(() => undefined); // its stop at the end of the run is no failure
  const startMs = await Promise.race([firstOk(url, started), died]);
  await load(url, 10); // warm-up, not counted
  const runs = {};
  for (const connections of [1, 50]) {
    // CPU per request of the server itself and of its child processes (runtimes), and of this
    // process (autocannon), during the run: where the two cores go.
    const pids = treePids(child.pid);
    const before = pids.map(cpuMicros);
    const ownBefore = process.cpuUsage();
    const result = await load(url, connections);
    const own = process.cpuUsage(ownBefore);
    const spent = pids.map((pid, i) => cpuMicros(pid) - before[i]);
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`${name}: ${result.non2xx} non-2xx and ${result.errors} errors at ${connections} connections`);
    const per = (micros) => Math.round(micros / result.requests.total);
    runs[connections] = {
      rps: Math.round(result.requests.average),
      p50: result.latency.p50,
      p99: result.latency.p99,
      total: result.requests.total,
      cpuMicrosPerRequest: {
        server: per(spent[0]),
        children: per(spent.slice(1).reduce((a, b) => a + b, 0)),
        autocannon: per(own.user + own.system),
      },
    };
  }
  const rssMb = treeRssMb(child.pid);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  return { name, startMs: Math.round(startMs), rssMb, runs };
}

const bundled = prepareApp(app, cli);

// Start → first 200, alternating: one start of each is too noisy to compare.
const START_ROUNDS = 7;
const starts = await startTimes(
  [
    {
      name: 'baseline',
      args: (port) => [join(here, 'baseline.mjs'), bundled, 'handler', String(port)],
      path: '/hello',
    },
    { name: 'up', args: (port) => [cli, 'up', '--port', String(port), '--dir', app], offset: 1, path: '/hello' },
  ],
  START_ROUNDS,
);
const startMs = { baseline: median(starts.get('baseline')), up: median(starts.get('up')) };

const basePort = await freePorts(1);
const baseline = await measure(
  'node:http in-process',
  process.execPath,
  [join(here, 'baseline.mjs'), bundled, 'handler', String(basePort)],
  `http://127.0.0.1:${basePort}/hello`,
);
// The floor: the least a server with a process boundary per request can do (floor.mjs).
const floorPort = await freePorts(1);
const floor = await measure(
  'floor: node:http + a child process per request',
  process.execPath,
  [join(here, 'floor.mjs'), bundled, 'handler', String(floorPort)],
  `http://127.0.0.1:${floorPort}/hello`,
);
const upPort = await freePorts(2);
const stagecraftUp = await measure(
  'stagecraft up',
  process.execPath,
  [cli, 'up', '--port', String(upPort), '--dir', app],
  `http://127.0.0.1:${upPort + 1}/hello`,
);

const ratio50 = stagecraftUp.runs[50].rps / baseline.runs[50].rps;
const upFloorRatio = stagecraftUp.runs[50].rps / floor.runs[50].rps;
const startRatio = startMs.up / startMs.baseline;
const summary = {
  node: process.version,
  cpus: cpus().length,
  secondsPerRun: seconds,
  baseline,
  floor,
  stagecraft: stagecraftUp,
  ratioAt50: Number(ratio50.toFixed(3)),
  ratioAt1: Number((stagecraftUp.runs[1].rps / baseline.runs[1].rps).toFixed(3)),
  // Medians of START_ROUNDS alternating starts; each measure's own startMs is one start.
  startMs: { ...startMs, rounds: START_ROUNDS },
  startRatio: Number(startRatio.toFixed(2)),
  floorRatioAt50: Number((floor.runs[50].rps / baseline.runs[50].rps).toFixed(3)),
  // The floor's own CPU per request at 50 connections (server + child): what only a design change lowers.
  floorMicrosPerRequest: floor.runs[50].cpuMicrosPerRequest.server + floor.runs[50].cpuMicrosPerRequest.children,
  targets: { upFloorRatio: '>= 0.7', p99At50: '<= 25 ms', startRatio: '<= 2' },
  pass: upFloorRatio >= 0.7 && stagecraftUp.runs[50].p99 <= 25 && startRatio <= 2,
  // Last, for `npm run bench:check`: the figures it compares with the recorded ones.
  check: {
    upFloorRatio: Number(upFloorRatio.toFixed(3)),
    p99At50: stagecraftUp.runs[50].p99,
    startRatio: Number(startRatio.toFixed(2)),
  },
};
console.log(JSON.stringify(summary, null, 2));
rmSync(app, { recursive: true, force: true });
process.exit(summary.pass ? 0 : 1);
