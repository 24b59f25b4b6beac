#!/usr/bin/env node
// npm run bench:check: short runs of the benchmarks, each one's `check` object (the last JSON
// document it prints) compared with bench/baseline.json; exit 1 when any value is more than its
// tolerance (default 20 %) worse than the baseline, or a bench fails to run. Not part of `npm test`:
// timings on a shared machine are noise for a test, but a developer runs this before stopping.
// Usage: node scripts/bench-check.mjs [--update] [--only gateway,scale] [--no-build]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const baselineFile = join(root, 'bench', 'baseline.json');
const DEFAULT_TOLERANCE = 0.2;

/** Each bench with the arguments of its short run; `scripts` lists where it may live (the first present runs). */
const BENCHES = [
  { name: 'gateway', scripts: ['bench/gateway/run.mjs'], args: ['2'] },
  { name: 'scale', scripts: ['bench/scale/run.mjs'], args: ['50', '3', '200', '--idle-timeout', '10s', '--runs', '3'] },
  { name: 'build', scripts: ['bench/build/run.mjs'], args: ['50', '2'] },
  { name: 'dev', scripts: ['bench/dev/run.mjs'], args: ['50', '5', '2'] },
  { name: 'aws', scripts: ['bench/aws/run.mjs', 'bench/aws-promote/run.mjs', 'bench/promote-aws/run.mjs'], args: [] },
];

/** Higher is better for throughputs and ratios to a floor; everything else (times, sizes, errors) is lower-better. */
const guessBetter = (name) => (/rps|perSecond|throughput|ratioAt|floorRatio|speedup/i.test(name) ? 'higher' : 'lower');

function parseArgs(argv) {
  const options = { update: false, build: true, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--update') options.update = true;
    else if (argv[i] === '--no-build') options.build = false;
    else if (argv[i] === '--only') options.only = new Set((argv[++i] ?? '').split(','));
    else {
      console.error(
        `bench:check: unknown argument ${argv[i]}\nusage: bench-check.mjs [--update] [--only a,b] [--no-build]`,
      );
      process.exit(2);
    }
  }
  return options;
}

/** The last JSON document in a bench's output (benches print progress before it). */
function lastJson(text) {
  const trimmed = text.trim();
  for (let at = trimmed.lastIndexOf('\n{'); ; at = trimmed.lastIndexOf('\n{', at - 1)) {
    try {
      return JSON.parse(at < 0 ? trimmed : trimmed.slice(at + 1));
    } catch {
      if (at < 0) return undefined;
    }
  }
}

function runBench(bench) {
  const script = bench.scripts.find((path) => existsSync(join(root, path)));
  if (script === undefined) return Promise.resolve({ status: 'absent' });
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [join(root, script), ...bench.args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('exit', (code, signal) => {
      const seconds = Math.round((performance.now() - started) / 1000);
      const json = lastJson(stdout);
      // A bench exits 1 when it misses its own target: that is for its check values to say, not a crash.
      if (json === undefined)
        resolve({
          status: 'error',
          seconds,
          detail: `${script} exited ${signal ?? code} without a JSON result\n${stderr.slice(-2000)}`,
        });
      else if (json.check === undefined || typeof json.check !== 'object') resolve({ status: 'no check', seconds });
      else resolve({ status: 'ok', seconds, check: json.check });
    });
  });
}

/** How a value compares with its baseline entry: the change (fraction, + is worse) and the verdict. */
function compare(value, entry) {
  const tolerance = entry.tolerance ?? DEFAULT_TOLERANCE;
  const base = entry.value;
  if (typeof value !== 'number' || !Number.isFinite(value))
    return { change: undefined, verdict: 'FAIL (not a number)' };
  if (base === 0) {
    const worse = entry.better === 'lower' ? value > 0 : value < 0;
    return { change: undefined, verdict: worse ? 'FAIL' : 'ok' };
  }
  const worseBy = entry.better === 'lower' ? value / base - 1 : 1 - value / base;
  return { change: worseBy, verdict: worseBy > tolerance ? 'FAIL' : 'ok' };
}

function table(rows) {
  const header = ['bench', 'check', 'better', 'baseline', 'now', 'worse by', 'verdict'];
  const cells = [header, ...rows.map((row) => header.map((key) => String(row[key] ?? '')))];
  const widths = header.map((_, i) => Math.max(...cells.map((cell) => cell[i].length)));
  return cells
    .map((cell) =>
      cell
        .map((text, i) => text.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const options = parseArgs(process.argv.slice(2));
const baseline = existsSync(baselineFile) ? JSON.parse(readFileSync(baselineFile, 'utf8')) : { benches: {} };
if (options.build) {
  const built = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) process.exit(1);
}
const loadBefore = loadavg()[0];
const rows = [];
let failed = false;
const measured = {};
for (const bench of BENCHES) {
  if (options.only && !options.only.has(bench.name)) continue;
  process.stderr.write(`bench:check: running ${bench.name} … `);
  const result = await runBench(bench);
  process.stderr.write(`${result.status}${result.seconds === undefined ? '' : ` (${result.seconds} s)`}\n`);
  if (result.status !== 'ok') {
    rows.push({ bench: bench.name, check: '—', verdict: result.status === 'error' ? 'FAIL (error)' : result.status });
    if (result.status === 'error') {
      failed = true;
      console.error(result.detail);
    }
    continue;
  }
  measured[bench.name] = result.check;
  for (const name of Object.keys(baseline.benches?.[bench.name] ?? {}))
    if (!(name in result.check)) rows.push({ bench: bench.name, check: name, verdict: 'no longer measured' });
  for (const [name, value] of Object.entries(result.check)) {
    const entry = baseline.benches?.[bench.name]?.[name];
    if (entry === undefined) {
      rows.push({
        bench: bench.name,
        check: name,
        better: guessBetter(name),
        now: value,
        verdict: 'new (no baseline)',
      });
      continue;
    }
    const { change, verdict } = compare(value, entry);
    if (verdict !== 'ok') failed = true;
    rows.push({
      bench: bench.name,
      check: name,
      better: entry.better,
      baseline: entry.value,
      now: value,
      'worse by': change === undefined ? '' : `${(change * 100).toFixed(0)} %`,
      verdict,
    });
  }
}
console.log(table(rows));
console.log(
  `load average (1 min): ${loadBefore.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after; ${cpus().length} cores`,
);

if (options.update) {
  const benches = { ...baseline.benches };
  for (const [bench, check] of Object.entries(measured)) {
    benches[bench] = Object.fromEntries(
      Object.entries(check).map(([name, value]) => {
        const old = baseline.benches?.[bench]?.[name];
        return [
          name,
          { value, better: old?.better ?? guessBetter(name), ...(old?.tolerance ? { tolerance: old.tolerance } : {}) },
        ];
      }),
    );
  }
  const next = {
    comment: 'npm run bench:check compares each bench check with these values; `--update` rewrites them.',
    updated: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, loadavg1m: Number(loadBefore.toFixed(2)) },
    benches,
  };
  writeFileSync(baselineFile, `${JSON.stringify(next, null, 2)}\n`);
  console.log(`bench:check: ${baselineFile} updated`);
  process.exit(rows.some((row) => row.verdict === 'FAIL (error)') ? 1 : 0);
}
process.exit(failed ? 1 : 0);
