#!/usr/bin/env node
// bench/promote: the promotion engine's own cost. A generated app of F functions and E
// environments (no gates) is built once, then promoted by the real CLI with `invoke` smoke
// tests in every environment. Reported per cell: the engine's time excluding the smoke tests
// (the outcome's totalMs - testsMs, measured inside the process), the same plus process start
// (wall - testsMs), and checks that nothing was rebuilt: no artifact written or touched, no
// release recorded, every environment on the built release's sha256s.
// Usage: node bench/promote/run.mjs [functions list] [environments list]
//        default: 1,5,10,20,50 × 1,2,4,8 (the range); the target cell is 20 × 4.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', '..', 'dist', 'cli', 'main.js');
const functionCounts = (process.argv[2] ?? '1,5,10,20,50').split(',').map(Number);
const environmentCounts = (process.argv[3] ?? '1,2,4,8').split(',').map(Number);
const maxEnvironments = Math.max(...environmentCounts);
const app = join(here, '.app');

function run(args) {
  const started = performance.now();
  const result = spawnSync(process.execPath, [cli, ...args, '--json', '--dir', app], {
    encoding: 'utf8',
    env: { ...process.env, STAGECRAFT_ACTOR: 'bench' },
  });
  const wallMs = performance.now() - started;
  if (result.status !== 0) throw new Error(`stagecraft ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
  return { json: JSON.parse(result.stdout), wallMs };
}

/** Every artifact file with its size and modification time: a rebuild would change this. */
function artifactSnapshot() {
  const dir = join(app, '.stagecraft', 'artifacts');
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const s = statSync(join(dir, name));
      return `${name}:${s.size}:${s.mtimeMs}`;
    })
    .join('\n');
}

function generate(functions) {
  rmSync(app, { recursive: true, force: true });
  mkdirSync(join(app, 'src'), { recursive: true });
  const defs = [];
  for (let i = 0; i < functions; i++) {
    const name = `fn${String(i).padStart(3, '0')}`;
    writeFileSync(
      join(app, 'src', `${name}.mjs`),
      `export const handler = async () => ({ statusCode: 200, body: '${name} ok' });\n`,
    );
    defs.push(`  ${name}:\n    handler: src/${name}.handler`);
  }
  const environments = Array.from({ length: maxEnvironments }, (_, i) => `  - name: env${i}`);
  const smoke = ['fn000', `fn${String(functions - 1).padStart(3, '0')}`].map(
    (fn, i) => `  - name: invoke-${i}\n    invoke: ${fn}\n    expect: { status: 200, bodyContains: ok }`,
  );
  writeFileSync(
    join(app, 'stagecraft.yml'),
    `app: bench\nruntime: nodejs20.x\nenvironments:\n${environments.join('\n')}\nfunctions:\n${defs.join('\n')}\nsmoke:\n${smoke.join('\n')}\n`,
  );
}

const rows = [];
for (const functions of functionCounts) {
  generate(functions);
  const built = run(['build']).json;
  const artifacts = artifactSnapshot();
  for (const environments of environmentCounts) {
    // A fresh state for each cell (the artifacts and build cache stay: nothing may be rebuilt).
    for (const file of ['state.db', 'state.db-wal', 'state.db-shm'])
      rmSync(join(app, '.stagecraft', file), { force: true });
    run(['build']); // records the release in the fresh state from the cache
    const before = artifactSnapshot();
    const { json: outcome, wallMs } = run(['promote', '--to', `env${environments - 1}`]);
    if (outcome.status !== 'succeeded') throw new Error(`promotion ${outcome.status}`);
    // Nothing rebuilt: the artifact files are untouched, the release is the built one, no build recorded.
    if (artifactSnapshot() !== before || before !== artifacts)
      throw new Error('artifacts changed during the promotion');
    if (outcome.release !== built.release) throw new Error(`promoted ${outcome.release}, built ${built.release}`);
    const history = run(['history']).json.entries;
    if (history.filter((entry) => entry.kind === 'release.built').length !== 1)
      throw new Error('a release was built during the promotion');
    const status = run(['status']).json;
    const shas = new Map(built.functions.map((fn) => [fn.function, fn.sha256]));
    for (const env of status.environments.slice(0, environments)) {
      for (const fn of env.functions)
        if (fn.live?.sha256 !== shas.get(fn.function))
          throw new Error(`${env.name}/${fn.function} does not run the built artifact`);
    }
    const engineMs = outcome.timings.totalMs - outcome.timings.testsMs;
    rows.push({
      functions,
      environments,
      cells: functions * environments,
      engineMs,
      wallMinusTestsMs: Math.round(wallMs - outcome.timings.testsMs),
      testsMs: outcome.timings.testsMs,
    });
    process.stderr.write(
      `${functions} functions × ${environments} environments: engine ${engineMs} ms, wall − tests ${Math.round(wallMs - outcome.timings.testsMs)} ms (tests ${outcome.timings.testsMs} ms)\n`,
    );
  }
}
rmSync(app, { recursive: true, force: true });

// Linear in functions × environments: least squares of engineMs = a + b·cells, and R².
const n = rows.length;
const mx = rows.reduce((sum, row) => sum + row.cells, 0) / n;
const my = rows.reduce((sum, row) => sum + row.engineMs, 0) / n;
const b =
  rows.reduce((sum, row) => sum + (row.cells - mx) * (row.engineMs - my), 0) /
  rows.reduce((sum, row) => sum + (row.cells - mx) ** 2, 0);
const a = my - b * mx;
const ssTot = rows.reduce((sum, row) => sum + (row.engineMs - my) ** 2, 0);
const ssRes = rows.reduce((sum, row) => sum + (row.engineMs - (a + b * row.cells)) ** 2, 0);
const r2 = 1 - ssRes / ssTot;
const target = rows.find((row) => row.functions === 20 && row.environments === 4);
console.log(
  JSON.stringify(
    {
      cpus: cpus().length,
      node: process.version,
      rows,
      fit: { fixedMs: Math.round(a), perFunctionEnvironmentMs: Number(b.toFixed(2)), r2: Number(r2.toFixed(3)) },
      target: target
        ? {
            engineMs: target.engineMs,
            wallMinusTestsMs: target.wallMinusTestsMs,
            underOneSecond: target.wallMinusTestsMs < 1000,
          }
        : null,
    },
    null,
    2,
  ),
);
if (target && target.wallMinusTestsMs >= 1000) process.exitCode = 1;
