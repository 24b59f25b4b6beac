#!/usr/bin/env node
// The Node runtime's resident memory over many invocations, driven over its Runtime API pipe alone
// (no host, no gateway): with a new trace id each invocation, as Lambda and `up` give, or with one
// trace id repeated. Setting `_X_AMZN_TRACE_ID` to a new value each time grows the process by what
// glibc's setenv keeps (bench/RESULTS.md). Linux only (/proc/<pid>/status).
// Usage: npm run build && node bench/runtime/trace-env.mjs [invocations=300000] [--same-trace]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { createFrameReader, encodeFrame } = await import(join(root, 'dist', 'runtime', 'bootstrap', 'frames.mjs'));
const invocations = Number(process.argv[2] ?? 300_000);
const sameTrace = process.argv.includes('--same-trace');
const every = Math.max(1, Math.floor(invocations / 6));

const code = mkdtempSync(join(tmpdir(), 'stagecraft-trace-env-'));
writeFileSync(
  join(code, 'h.mjs'),
  'export const handler = async (event) => ({ statusCode: 200, body: event.rawPath });\n',
);
const runtime = spawn(process.execPath, [join(root, 'dist', 'runtime', 'node-bootstrap.mjs')], {
  stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
  env: { PATH: process.env.PATH, STAGECRAFT_RUNTIME_API_FD: '3', LAMBDA_TASK_ROOT: code, _HANDLER: 'h.handler' },
});
const pipe = runtime.stdio[3];
const event = JSON.stringify({ version: '2.0', rawPath: '/hello', headers: { host: 'bench' } });
const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${runtime.pid}/status`, 'utf8'))?.[1]);
const rows = [];
let served = 0;
pipe.on(
  'data',
  createFrameReader(({ header }) => {
    if (header.noReply) return; // a posted response: the next frame is its `next`
    if (served % every === 0) rows.push({ invocations: served, rssMb: Math.round(rssKb() / 1024) });
    if (served++ >= invocations) {
      pipe.destroy(); // the runtime exits once its Runtime API is gone
      return;
    }
    const trace = sameTrace
      ? 'Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0'
      : `Root=1-${served.toString(16).padStart(8, '0')}-000000000000000000000000;Parent=0000000000000000;Sampled=0`;
    const headers = {
      'lambda-runtime-aws-request-id': `request-${served}`,
      'lambda-runtime-deadline-ms': String(Date.now() + 60_000),
      'lambda-runtime-trace-id': trace,
    };
    pipe.write(encodeFrame({ id: header.id, status: 200, headers }, event));
  }),
);
runtime.once('exit', () => {
  rmSync(code, { recursive: true, force: true });
  console.log(JSON.stringify({ sameTrace, rows }));
});
