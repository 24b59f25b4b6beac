#!/usr/bin/env node
// bench/scale: `stagecraft up` on apps of F functions × E environments (bench/lib/app.mjs, no
// gates), each measured in the same run: start → first 200, the process tree at rest (processes,
// RSS), a burst of concurrent requests spread over every instance, and the tree once idle
// environments are reaped. Baseline in the same run: one function in one environment.
// Usage: npm run build && node bench/scale/run.mjs [functions=1,10,50] [environments=3] [burst=200]
//        [--idle-timeout 15s] [--runs N]  (N starts of each app, the median reported)
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { functionName, generateApp } from '../lib/app.mjs';
import { freePorts, tree, treeCpuSeconds } from '../lib/system.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', '..', 'dist', 'cli', 'main.js');
const flags = new Map();
const positional = [];
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i];
  if (arg.startsWith('--')) flags.set(arg.slice(2), process.argv[++i]);
  else positional.push(arg);
}
const counts = (positional[0] ?? '1,10,50').split(',').map(Number);
const envCount = Number(positional[1] ?? 3);
const burstSize = Number(positional[2] ?? 200);
const idleTimeout = flags.get('idle-timeout') ?? '15s';
const runs = Number(flags.get('runs') ?? 1);
const ENVS = ['dev', 'staging', 'prod', 'qa', 'perf', 'demo'].slice(0, envCount);

const children = new Set();
const fail = (error) => {
  for (const child of children) child.kill('SIGTERM');
  console.error(error);
  process.exit(1);
};
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

function stagecraft(app, ...args) {
  const result = spawnSync(process.execPath, [cli, ...args, '--json', '--dir', app], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`stagecraft ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function firstOk(url, started, died) {
  for (;;) {
    const ok = await Promise.race([
      fetch(url).then(
        (response) => response.status === 200,
        () => false,
      ),
      died,
    ]);
    if (ok) return performance.now() - started;
    await sleep(5);
  }
}

/** The `functions` of up's status: each instance's environments and how many are idle. */
async function functionStats(admin) {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(`${admin}/api/status`);
      return (await response.json()).functions ?? [];
    } catch (error) {
      // A keep-alive socket the server closed between two polls is not an answer: ask again.
      if (attempt === 5) throw error;
    }
  }
}

/**
 * Waits until up's tree is at rest: every environment idle and the process count unchanged for a
 * second (a bench may wait on the clock; the bound turns a hang into a failure).
 */
async function atRest(pid, admin, limitMs = 120_000) {
  const deadline = Date.now() + limitMs;
  let last = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    const stats = await functionStats(admin);
    const busy = stats.some((s) => s.environments !== s.warm || s.busy > 0 || s.queued > 0);
    const { processes } = tree(pid);
    if (busy || processes !== last) {
      last = processes;
      since = Date.now();
    } else if (Date.now() - since >= 1000) return tree(pid);
    await sleep(100);
  }
  throw new Error('up never came to rest');
}

/** Waits until no environment is left (reaped); returns how long that took after `from`. */
async function reaped(pid, admin, from, limitMs = 120_000) {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    const stats = await functionStats(admin);
    if (stats.every((s) => s.environments === 0))
      return { afterMs: Math.round(performance.now() - from), ...tree(pid) };
    await sleep(100);
  }
  return { afterMs: null, ...tree(pid) };
}

function startUp(app, port) {
  // `--idle-timeout none`: up's own default (and a build from before the option existed).
  const idle = idleTimeout === 'none' ? [] : ['--idle-timeout', idleTimeout];
  const child = spawn(process.execPath, [cli, 'up', '--port', String(port), ...idle, '--dir', app], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const died = new Promise((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`up exited (${signal ?? code}):\n${stderr}`))),
  );
  died.catch(() => undefined);
  return {
    child,
    died,
    stop: () =>
      new Promise((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', () => {
          children.delete(child);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** `size` concurrent GETs over every function of every environment (each at least once when size ≥ instances). */
async function burst(base, count, envs, size) {
  const urls = [];
  for (let i = 0; i < size; i++) {
    const instance = i % (count * envs.length);
    urls.push(
      `http://127.0.0.1:${base + 1 + (instance % envs.length)}/${functionName(Math.floor(instance / envs.length))}`,
    );
  }
  const started = performance.now();
  const results = await Promise.all(
    urls.map((url) =>
      fetch(url).then(
        async (response) => ({ status: response.status, ms: performance.now() - started, body: await response.text() }),
        (error) => ({ status: 0, ms: performance.now() - started, body: String(error) }),
      ),
    ),
  );
  const errors = results.filter((r) => r.status !== 200);
  const times = results.map((r) => r.ms).sort((a, b) => a - b);
  return {
    requests: size,
    instances: Math.min(size, count * envs.length),
    errors: errors.length,
    firstErrors: errors.slice(0, 3).map((r) => `${r.status} ${r.body.slice(0, 120)}`),
    wallMs: Math.round(times.at(-1)),
    p50Ms: Math.round(times[Math.floor(times.length / 2)]),
  };
}

/**
 * Starts `up` on free ports and times its first 200; the ports are probed free, then bound by up,
 * so another process may take one in between: only that is retried, on fresh ports.
 */
async function launch(app, envs) {
  for (let attempt = 1; ; attempt++) {
    const port = await freePorts(envs.length + 2);
    const started = performance.now();
    const up = startUp(app, port);
    try {
      const startMs = await firstOk(`http://127.0.0.1:${port + 1}/${functionName(0)}`, started, up.died);
      return { up, port, startMs };
    } catch (error) {
      children.delete(up.child);
      if (attempt === 3 || !/already in use/.test(String(error))) throw error;
    }
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Deploys an app of `count` functions in `envs`, then starts `up` on it `runs` times. */
async function measure(count, envs, { withBurst }) {
  const app = join(here, `.app-${count}x${envs.length}`);
  generateApp(app, count, envs);
  stagecraft(app, 'build');
  for (const env of envs) stagecraft(app, 'deploy', env);
  const starts = [];
  let result;
  for (let run = 0; run < runs; run++) {
    const { up, port, startMs } = await launch(app, envs);
    const admin = `http://127.0.0.1:${port}`;
    starts.push(startMs);
    // The first environment's last function: never the first one asked for, so prewarmed only if all are.
    const lastStarted = performance.now();
    await firstOk(`http://127.0.0.1:${port + envs.length}/${functionName(count - 1)}`, lastStarted, up.died);
    const lastMs = performance.now() - lastStarted;
    if (run < runs - 1) {
      await up.stop();
      continue;
    }
    const idle = await atRest(up.child.pid, admin);
    const stats = await functionStats(admin);
    result = {
      functions: count,
      environments: envs.length,
      startMs: Math.round(median(starts)),
      startRunsMs: starts.map(Math.round),
      otherFirstMs: Math.round(lastMs),
      idle: { ...idle, environments: stats.reduce((n, s) => n + s.environments, 0) },
    };
    if (withBurst) {
      const burstStarted = performance.now();
      const cpuBefore = treeCpuSeconds(up.child.pid);
      result.burst = await burst(port, count, envs, burstSize);
      // What the burst cost the machine, whatever else ran on it: up, its runtimes and their sandboxes.
      result.burst.cpuSeconds = Number((treeCpuSeconds(up.child.pid) - cpuBefore).toFixed(1));
      result.afterBurst = tree(up.child.pid);
      if (idleTimeout !== 'none') result.reaped = await reaped(up.child.pid, admin, burstStarted + result.burst.wallMs);
    }
    await up.stop();
  }
  rmSync(app, { recursive: true, force: true });
  return result;
}

const load = () => Number(loadavg()[0].toFixed(2));
const loadBefore = load();
const baseline = await measure(1, ['dev'], { withBurst: false });
const curve = [];
for (const count of counts) curve.push(await measure(count, ENVS, { withBurst: true }));
const largest = curve.at(-1);
const startRatio = largest.startMs / baseline.startMs;
const summary = {
  node: process.version,
  cpus: cpus().length,
  loadavg1m: { before: loadBefore, after: load() },
  idleTimeout,
  baseline,
  curve,
  startRatio: Number(startRatio.toFixed(2)),
  targets: { startRatio: '<= 1.5', idleRssMb: '<= 400', burstErrors: '0' },
  check: {
    startRatio: Number(startRatio.toFixed(2)),
    idleRssMb: largest.idle.rssMb,
    burstErrors: largest.burst.errors,
    burstWallMs: largest.burst.wallMs,
    burstCpuSeconds: largest.burst.cpuSeconds,
  },
};
summary.pass = startRatio <= 1.5 && largest.idle.rssMb <= 400 && largest.burst.errors === 0;
console.log(JSON.stringify(summary, null, 2));
process.exit(summary.pass ? 0 : 1);
