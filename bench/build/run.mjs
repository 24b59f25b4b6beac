#!/usr/bin/env node
// bench/build: `stagecraft build` (the real CLI, Node's start included) beside its floors, measured
// in the same run, each run interleaved so that the machine's load falls on both alike:
// - first build of N TypeScript functions (bench/lib/app.mjs) ÷ one plain esbuild call bundling
//   the same N entries with the same options (bench/build/floor.mjs, a process of its own);
// - a one-function change (one handler edited, then `build`) ÷ one plain esbuild call bundling that
//   entry alone; edited in turn: a function using the local module only, one using yaml, one
//   using zod and the AWS SDK's DynamoDB client;
// - first build of P Python functions (their own folders, no requirements) ÷ reading and zipping
//   the same files with the same deterministic zip, one after another, in one Node process;
// - a no-change rebuild ÷ the first build (must reuse every artifact and give the same release);
// - what `build` costs with nothing to do (a no-change rebuild) ÷ each floor above: the part of the
//   ratio no bundling or zipping can take back (`fixedRatio`).
// Usage: node bench/build/run.mjs [N=50] [runs=3] [P=10]   (BENCH_CLI=path/to/main.js: another CLI)
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { functionName, functionSource, generateApp } from '../lib/app.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
// BENCH_CLI: another build of the CLI to measure (the "before" of bench/RESULTS.md), same floors.
const cli = process.env.BENCH_CLI ?? join(root, 'dist', 'cli', 'main.js');
const floor = join(here, 'floor.mjs');
const count = Number(process.argv[2] ?? 50);
const runs = Number(process.argv[3] ?? 3);
const pythonCount = Number(process.argv[4] ?? 10);
// Inside the repository, so the functions resolve their npm dependencies from its node_modules.
const app = join(here, '.app');
const pyApp = join(here, '.app-py');
// Function indexes as bench/lib/app.mjs gives them their imports: 2 the local module only, 1 yaml,
// 0 zod and the DynamoDB client.
const EDITS = [
  { kind: 'local', index: 2 },
  { kind: 'yaml', index: 1 },
  { kind: 'zod+dynamodb', index: 0 },
];

function timed(args) {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed:\n${result.stderr}`);
  return { ms, stdout: result.stdout };
}

function build(dir) {
  const { ms, stdout } = timed([cli, 'build', '--json', '--dir', dir]);
  const json = JSON.parse(stdout);
  return { ms, rebundled: json.functions.filter((fn) => !fn.cached).length, release: json.release };
}

const handlers = Array.from({ length: count }, (_, i) => `src/${functionName(i)}.handler`);
const esbuildFloor = (list) => timed([floor, 'esbuild', app, ...list]).ms;
const pyFolders = Array.from({ length: pythonCount }, (_, i) => `py/${functionName(i)}`);

/** P Python functions, each its own folder: a handler and a small vendored package of 20 modules. */
function generatePythonApp() {
  rmSync(pyApp, { recursive: true, force: true });
  const functions = [];
  pyFolders.forEach((folder, i) => {
    mkdirSync(join(pyApp, folder, 'vendor'), { recursive: true });
    writeFileSync(join(pyApp, folder, 'vendor', '__init__.py'), '');
    for (let m = 0; m < 20; m++) {
      const body = Array.from({ length: 80 }, (_, line) => `def f${m}_${line}(x):\n    return x * ${line} + ${i}\n`);
      writeFileSync(join(pyApp, folder, 'vendor', `m${m}.py`), `# module ${m} of ${folder}\n${body.join('')}`);
    }
    writeFileSync(
      join(pyApp, folder, 'app.py'),
      `from vendor import m0\n\ndef handler(event, context):\n    return {"statusCode": 200, "body": str(m0.f0_1(${i}))}\n`,
    );
    functions.push(`  ${functionName(i)}:\n    runtime: python3.12\n    code: ${folder}\n    handler: app.handler`);
  });
  writeFileSync(
    join(pyApp, 'stagecraft.yml'),
    `app: benchpy\nenvironments:\n  - name: dev\nfunctions:\n${functions.join('\n')}\n`,
  );
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const spread = (values) => [Math.min(...values), Math.max(...values)].map((v) => Number(v.toFixed(2)));
const round = (value) => Number(value.toFixed(3));

const samples = [];
for (let run = 0; run < runs; run++) {
  // Alternate which goes first, so that neither always meets the machine warmer or busier.
  const pair = (a, b) => (run % 2 === 0 ? [a(), b()] : [b(), a()].reverse());
  generateApp(app, count, ['dev']);
  generatePythonApp();
  const [first, floorAll] = pair(
    () => build(app),
    () => esbuildFloor(handlers),
  );
  if (first.rebundled !== count) throw new Error('the first build used the cache');
  const noChange = build(app);
  if (noChange.rebundled !== 0 || noChange.release !== first.release)
    throw new Error(`a no-change rebuild rebundled ${noChange.rebundled} function(s)`);
  const oneChange = {};
  for (const { kind, index } of EDITS) {
    writeFileSync(join(app, 'src', `${functionName(index)}.ts`), functionSource(index, `edit-${run}`));
    const [changed, floorOne] = pair(
      () => build(app),
      () => esbuildFloor([handlers[index]]),
    );
    if (changed.rebundled !== 1) throw new Error(`editing one function rebundled ${changed.rebundled}`);
    oneChange[kind] = {
      ms: changed.ms,
      floorMs: floorOne,
      ratio: changed.ms / floorOne,
      fixedRatio: noChange.ms / floorOne,
    };
  }
  const [pyFirst, pyFloor] = pair(
    () => build(pyApp),
    () => timed([floor, 'zip', pyApp, ...pyFolders]).ms,
  );
  if (pyFirst.rebundled !== pythonCount) throw new Error('the first Python build used the cache');
  const pyNoChange = build(pyApp);
  if (pyNoChange.rebundled !== 0) throw new Error(`a no-change Python rebuild rebuilt ${pyNoChange.rebundled}`);
  samples.push({
    firstMs: first.ms,
    floorMs: floorAll,
    firstRatio: first.ms / floorAll,
    noChangeMs: noChange.ms,
    noChangeRatio: noChange.ms / first.ms,
    oneChange,
    pyFirstMs: pyFirst.ms,
    pyFloorMs: pyFloor,
    pyRatio: pyFirst.ms / pyFloor,
    pyNoChangeMs: pyNoChange.ms,
    pyFixedRatio: pyNoChange.ms / pyFloor,
    load: loadavg()[0],
  });
}

const column = (pick) => samples.map(pick);
const oneChangeByKind = Object.fromEntries(
  EDITS.map(({ kind }) => {
    const ratios = column((s) => s.oneChange[kind].ratio);
    return [
      kind,
      {
        ratio: round(median(ratios)),
        ratioSpread: spread(ratios),
        buildMs: Math.round(median(column((s) => s.oneChange[kind].ms))),
        floorMs: Math.round(median(column((s) => s.oneChange[kind].floorMs))),
        fixedRatio: round(median(column((s) => s.oneChange[kind].fixedRatio))),
      },
    ];
  }),
);
const firstRatios = column((s) => s.firstRatio);
const pyRatios = column((s) => s.pyRatio);
const noChangeRatios = column((s) => s.noChangeRatio);
const summary = {
  functions: count,
  pythonFunctions: pythonCount,
  runs,
  cpus: cpus().length,
  node: process.version,
  loadAverage: spread(column((s) => s.load)),
  first: {
    ratio: round(median(firstRatios)),
    ratioSpread: spread(firstRatios),
    buildMs: Math.round(median(column((s) => s.firstMs))),
    floorMs: Math.round(median(column((s) => s.floorMs))),
  },
  oneChange: oneChangeByKind,
  python: {
    ratio: round(median(pyRatios)),
    ratioSpread: spread(pyRatios),
    buildMs: Math.round(median(column((s) => s.pyFirstMs))),
    noChangeMs: Math.round(median(column((s) => s.pyNoChangeMs))),
    fixedRatio: round(median(column((s) => s.pyFixedRatio))),
    floorMs: Math.round(median(column((s) => s.pyFloorMs))),
  },
  noChange: {
    ratio: round(median(noChangeRatios)),
    ratioSpread: spread(noChangeRatios),
    buildMs: Math.round(median(column((s) => s.noChangeMs))),
  },
  // What `npm run bench:check` reads: medians of the ratios to the same-run floors (lower is
  // better); the one-function change is its worst kind.
  check: {
    buildFirstRatio: round(median(firstRatios)),
    buildOneChangeRatio: Math.max(...Object.values(oneChangeByKind).map((k) => k.ratio)),
    buildPythonRatio: round(median(pyRatios)),
    buildNoChangeRatio: round(median(noChangeRatios)),
  },
};
console.log(JSON.stringify(summary, null, 2));
rmSync(app, { recursive: true, force: true });
rmSync(pyApp, { recursive: true, force: true });
