#!/usr/bin/env node
// bench/build: a generated app of N functions (default 50) built by the real CLI.
// Measures the first (cold) build and no-change rebuilds, CLI start-up included, and checks
// that a rebuild takes at most 0.2x the first build. Usage: node bench/build/run.mjs [N] [runs]
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const count = Number(process.argv[2] ?? 50);
const runs = Number(process.argv[3] ?? 5);
// Inside the repository, so the functions resolve their npm dependencies from its node_modules.
const app = join(here, '.app');

function generate() {
  rmSync(app, { recursive: true, force: true });
  mkdirSync(join(app, 'src', 'lib'), { recursive: true });
  writeFileSync(
    join(app, 'src', 'lib', 'respond.ts'),
    `export const respond = (statusCode: number, body: unknown) => ({ statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });\n`,
  );
  const functions = [];
  for (let i = 0; i < count; i++) {
    const name = `fn${String(i).padStart(3, '0')}`;
    // A realistic mix: every function has local code; some use zod, some yaml, some the AWS SDK.
    const imports = [`import { respond } from './lib/respond.js';`];
    const uses = [];
    if (i % 3 === 0) {
      imports.push(`import { z } from 'zod';`);
      uses.push(`z.object({ id: z.string() }).safeParse(event).success`);
    }
    if (i % 3 === 1) {
      imports.push(`import { parse } from 'yaml';`);
      uses.push(`parse('a: 1')`);
    }
    if (i % 5 === 0) {
      imports.push(`import { DynamoDBClient } from '@aws-sdk/client-dynamodb';`);
      uses.push(`typeof DynamoDBClient`);
    }
    writeFileSync(
      join(app, 'src', `${name}.ts`),
      `${imports.join('\n')}\nexport const handler = async (event: unknown) => respond(200, { fn: '${name}', checks: [${uses.join(', ')}] });\n`,
    );
    functions.push(`  ${name}:\n    handler: src/${name}.handler\n    events:\n      - http: GET /${name}`);
  }
  writeFileSync(
    join(app, 'stagecraft.yml'),
    `app: bench\nenvironments:\n  - name: dev\nfunctions:\n${functions.join('\n')}\n`,
  );
}

function build() {
  const started = performance.now();
  const result = spawnSync(process.execPath, [cli, 'build', '--json', '--dir', app], { encoding: 'utf8' });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`build failed:\n${result.stderr}`);
  const json = JSON.parse(result.stdout);
  return { ms, cached: json.functions.filter((fn) => fn.cached).length, release: json.release };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

generate();
const first = build();
if (first.cached !== 0) throw new Error('the first build used the cache');
const rebuilds = [];
for (let i = 0; i < runs; i++) {
  const rebuild = build();
  if (rebuild.cached !== count || rebuild.release !== first.release)
    throw new Error(`a no-change rebuild rebundled ${count - rebuild.cached} function(s)`);
  rebuilds.push(rebuild.ms);
}
const ratio = median(rebuilds) / first.ms;
const summary = {
  functions: count,
  cpus: cpus().length,
  node: process.version,
  firstBuildMs: Math.round(first.ms),
  rebuildMedianMs: Math.round(median(rebuilds)),
  rebuildRunsMs: rebuilds.map(Math.round),
  ratio: Number(ratio.toFixed(3)),
  target: 0.2,
  pass: ratio <= 0.2,
};
console.log(JSON.stringify(summary, null, 2));
rmSync(app, { recursive: true, force: true });
process.exit(summary.pass ? 0 : 1);
