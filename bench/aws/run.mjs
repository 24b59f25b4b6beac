#!/usr/bin/env node
// bench/aws: a promotion's wall time on AWS against its floor, Lambda's 15 budgeted calls/s. A
// generated app of F functions and 3 environments (no gates, no smoke tests) is created on a
// moto_server behind test/helpers/lambda-proxy.ts (429 TooManyRequestsException past 15 budgeted
// calls/s, RevisionId checked, as Lambda does), then every function's code changes and the real
// CLI promotes that release through the 3 environments. Reported: the promotion's own time (the
// outcome's totalMs) over the floor (the budgeted calls the proxy let through ÷ 15), the process's
// wall time likewise, budgeted calls per function per environment, 429s the proxy answered.
// Usage: npm run build && node bench/aws/run.mjs [functions=20]
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import { freePorts } from '../lib/system.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const functions = Number(process.argv[2] ?? 20);
const environments = ['dev', 'staging', 'prod'];
const app = join(here, '.app');
const PER_SECOND = 15;

// The tests' own proxy, compiled (it imports node:http and node:net only).
const proxyFile = join(here, '.lambda-proxy.mjs');
buildSync({
  entryPoints: [join(root, 'test', 'helpers', 'lambda-proxy.ts')],
  outfile: proxyFile,
  platform: 'node',
  format: 'esm',
  logLevel: 'error',
});
const { startLambdaProxy } = await import(pathToFileURL(proxyFile).href);

async function startMoto() {
  const port = await freePorts(1);
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  while (
    !(await fetch(`${endpoint}/moto-api/config`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('moto_server did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await fetch(`${endpoint}/moto-api/config`, {
    method: 'POST',
    body: JSON.stringify({ lambda: { use_docker: false } }),
  });
  return { endpoint, stop: () => child.kill('SIGTERM') };
}

function writeApp(answer) {
  mkdirSync(join(app, 'src'), { recursive: true });
  const names = Array.from({ length: functions }, (_, i) => `fn${String(i).padStart(3, '0')}`);
  writeFileSync(
    join(app, 'stagecraft.yml'),
    [
      'app: awsbench',
      'provider: aws',
      'environments:',
      ...environments.map((env) => `  - name: ${env}`),
      'functions:',
      ...names.map((name) => `  ${name}: { handler: src/${name}.handler }`),
    ].join('\n'),
  );
  for (const name of names)
    writeFileSync(join(app, 'src', `${name}.mjs`), `export const handler = async () => '${answer} from ${name}';\n`);
}

/** The CLI as a process; not spawnSync: the proxy it talks to runs in this process's event loop. */
async function run(env, args) {
  const started = performance.now();
  const child = spawn(process.execPath, [cli, ...args, '--json', '--dir', app], { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    // Where the time goes: each progress line with the ms since the process started, on this stderr.
    if (process.env['BENCH_TRACE'])
      for (const line of String(chunk).split('\n').filter(Boolean))
        process.stderr.write(`${Math.round(performance.now() - started)} ms ${line}\n`);
  });
  const status = await new Promise((resolve) => child.once('close', resolve));
  const wallMs = performance.now() - started;
  if (status !== 0) throw new Error(`stagecraft ${args.join(' ')} exited ${status}:\n${stderr}`);
  return { json: JSON.parse(stdout), wallMs, stderr };
}

const moto = await startMoto();
const proxy = await startLambdaProxy(moto.endpoint, PER_SECOND);
const env = {
  ...process.env,
  STAGECRAFT_ACTOR: 'bench',
  AWS_ENDPOINT_URL: moto.endpoint,
  AWS_ENDPOINT_URL_LAMBDA: proxy.endpoint,
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_SESSION_TOKEN: 'testing',
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
};
try {
  rmSync(app, { recursive: true, force: true });
  writeApp('one');
  await run(env, ['build']);
  await run(env, ['promote']); // creates the stacks and functions: not measured
  writeApp('two');
  await run(env, ['build']);
  const before = { budgeted: proxy.budgeted, throttled: proxy.throttled };
  const { json, wallMs, stderr } = await run(env, ['promote']);
  const budgeted = proxy.budgeted - before.budgeted;
  const throttled = proxy.throttled - before.throttled;
  const floorMs = (budgeted / PER_SECOND) * 1000;
  const engineMs = json.timings.totalMs - json.timings.testsMs;
  const result = {
    cpus: cpus().length,
    node: process.version,
    functions,
    environments: environments.length,
    status: json.status,
    budgetedCalls: budgeted,
    floorMs: Math.round(floorMs),
    engineMs,
    wallMs: Math.round(wallMs),
    throttled429: throttled,
    throttlingInOutput: /TooManyRequests|Rate exceeded|throttl/i.test(stderr),
    check: {
      awsWallRatio: Number((engineMs / floorMs).toFixed(3)),
      awsProcessWallRatio: Number((wallMs / floorMs).toFixed(3)),
      callsPerFunctionCode: Number((budgeted / (functions * environments.length)).toFixed(3)),
    },
  };
  console.log(JSON.stringify(result, null, 2));
  if (json.status !== 'succeeded' || result.throttlingInOutput || result.check.awsWallRatio > 1.15)
    process.exitCode = 1;
} finally {
  await proxy.stop();
  moto.stop();
  rmSync(app, { recursive: true, force: true });
  rmSync(proxyFile, { force: true });
}
