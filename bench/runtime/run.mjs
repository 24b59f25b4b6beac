#!/usr/bin/env node
// bench/runtime: invocations per second through RuntimeHost (the warm pool behind `stagecraft up`)
// for a trivial handler, over both carriers of the Runtime API: loopback HTTP and the pipe.
// `callers` closed-loop callers (each sends its next invocation when the last one is answered)
// share one function with concurrency `concurrency`, so most of them wait in the host's queue.
// A third row runs the same handler written in Python on our Python bootstrap (HTTP, as every
// bootstrap but Node's speaks it), on the host's python3: the Node HTTP row is its baseline.
// Usage: npm run build && node bench/runtime/run.mjs [seconds=5] [callers=50] [concurrency=10]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuntimeHost } from '../../dist/runtime/index.js';

const seconds = Number(process.argv[2] ?? 5);
const callers = Number(process.argv[3] ?? 50);
const concurrency = Number(process.argv[4] ?? 10);
const warmupMs = 1000;

const code = mkdtempSync(join(tmpdir(), 'stagecraft-bench-runtime-'));
writeFileSync(
  join(code, 'index.mjs'),
  `export const handler = async (event) => ({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'ok ' + event.rawPath });\n`,
);
writeFileSync(
  join(code, 'index.py'),
  `def handler(event, context):\n    return {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "ok " + event["rawPath"]}\n`,
);
const python = execFileSync('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
  encoding: 'utf8',
}).trim();
// An API Gateway HTTP API (payload 2.0) event, the shape the gateway sends.
const payload = JSON.stringify({
  version: '2.0',
  routeKey: 'GET /hello',
  rawPath: '/hello',
  rawQueryString: '',
  headers: { host: '127.0.0.1', 'user-agent': 'bench', accept: '*/*' },
  requestContext: {
    accountId: '000000000000',
    apiId: 'local',
    domainName: '127.0.0.1',
    http: { method: 'GET', path: '/hello', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
    requestId: 'r',
    routeKey: 'GET /hello',
    stage: '$default',
    time: '01/Jan/2026:00:00:00 +0000',
    timeEpoch: 0,
  },
  isBase64Encoded: false,
});

function spec(row) {
  return {
    functionName: `bench-${row}`,
    version: '1',
    invokedArn: `arn:aws:lambda:us-east-1:000000000000:function:bench-${row}:live`,
    codeDir: code,
    handler: 'index.handler',
    runtime: row === 'python' ? `python${python}` : `nodejs${process.versions.node.split('.')[0]}.x`,
    memoryMb: 256,
    timeoutSec: 10,
    environment: {},
    region: 'us-east-1',
    concurrency,
  };
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];

async function measure(row) {
  const transport = row === 'python' ? 'http' : row;
  const host = new RuntimeHost({ transport });
  const fn = spec(row);
  const coldStarted = performance.now();
  const cold = await host.invoke(fn, payload);
  const coldMs = performance.now() - coldStarted;
  if (!cold.ok) throw new Error(`${transport}: ${JSON.stringify(cold.error)}`);

  const loop = async (until, latencies) => {
    let count = 0;
    while (performance.now() < until) {
      const started = performance.now();
      const outcome = await host.invoke(fn, payload);
      if (!outcome.ok) throw new Error(`${transport}: ${JSON.stringify(outcome.error)}`);
      latencies?.push(performance.now() - started);
      count += 1;
    }
    return count;
  };
  // Warm-up: every environment started, the JIT warm.
  const warmEnd = performance.now() + warmupMs;
  await Promise.all(Array.from({ length: callers }, () => loop(warmEnd)));

  const latencies = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const end = started + seconds * 1000;
  const counts = await Promise.all(Array.from({ length: callers }, () => loop(end, latencies)));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const total = counts.reduce((a, b) => a + b, 0);
  const stats = host.stats()[0];
  await host.drain();
  latencies.sort((a, b) => a - b);
  return {
    transport: row === 'python' ? `python ${python} (http)` : `node (${transport})`,
    invocationsPerSecond: Math.round(total / elapsed),
    p50Ms: Number(quantile(latencies, 0.5).toFixed(2)),
    p99Ms: Number(quantile(latencies, 0.99).toFixed(2)),
    coldStartMs: Number(coldMs.toFixed(1)),
    initDurationMs: Number((cold.initDurationMs ?? 0).toFixed(1)),
    hostCpuUsPerInvocation: Math.round((cpu.user + cpu.system) / total),
    environments: stats.coldStarts,
  };
}

try {
  const results = [];
  for (const row of ['http', 'pipe', 'python']) results.push(await measure(row));
  const [http, pipe, py] = results;
  const ratio = (a, b) => Number((a / b).toFixed(2));
  console.log(
    JSON.stringify(
      {
        seconds,
        callers,
        concurrency,
        cpus: cpus().length,
        node: process.version,
        python,
        results,
        pipeOverHttp: ratio(pipe.invocationsPerSecond, http.invocationsPerSecond),
        pythonOverNodeHttp: ratio(py.invocationsPerSecond, http.invocationsPerSecond),
        pythonColdOverNode: ratio(py.coldStartMs, http.coldStartMs),
      },
      null,
      2,
    ),
  );
  console.log(
    '\n| runtime (carrier) | invocations/s | p50 | p99 | cold start (init) | host CPU / invocation |\n|---|---|---|---|---|---|',
  );
  for (const r of results) {
    console.log(
      `| ${r.transport} | ${r.invocationsPerSecond.toLocaleString('en')} | ${r.p50Ms} ms | ${r.p99Ms} ms | ${r.coldStartMs} ms (${r.initDurationMs} ms) | ${r.hostCpuUsPerInvocation} µs |`,
    );
  }
} finally {
  rmSync(code, { recursive: true, force: true });
}
