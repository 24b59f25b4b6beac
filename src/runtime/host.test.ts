// The warm pool behind `stagecraft up`, with real runtime processes: warm reuse, concurrency
// limits and the queue, throttling, replacing dead environments, idle reaping and draining.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isStagecraftError } from '../errors.js';
import { gone, isRunning } from '../../test/helpers/processes.js';
import { until } from '../../test/helpers/wait.js';
import {
  FileLogSink,
  logFile,
  parseLogLine,
  RuntimeHost,
  type HostedFunction,
  type InvokeOutcome,
  type RuntimeHostOptions,
  type RuntimeTransport,
} from './index.js';

const NODE_CODE = fileURLToPath(new URL('../../test/fixtures/runtime/node', import.meta.url));

function fn(handler: string, overrides: Partial<HostedFunction> = {}): HostedFunction {
  return {
    functionName: 'shop-api-dev',
    version: '3',
    invokedArn: 'arn:aws:lambda:us-east-1:000000000000:function:shop-api-dev:live',
    codeDir: NODE_CODE,
    handler,
    runtime: `nodejs${process.versions.node.split('.')[0]}.x`,
    memoryMb: 128,
    timeoutSec: 5,
    environment: {},
    region: 'us-east-1',
    concurrency: 10,
    ...overrides,
  };
}

/**
 * These tests tell environments apart by the pid their handler reports, which inside bwrap is its
 * PID namespace's (the same in every one): the pool is tested without the sandbox (sandbox.test.ts has it).
 */
const NO_SANDBOX = { bwrap: undefined, off: true };

const hosts: RuntimeHost[] = [];
function host(options: RuntimeHostOptions = {}): RuntimeHost {
  const created = new RuntimeHost({ sandbox: NO_SANDBOX, ...options });
  hosts.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((created) => created.drain()));
});

const event = (value: unknown = {}): string => JSON.stringify(value);

function answer(outcome: InvokeOutcome): { pid: number; invocations: number } {
  if (!outcome.ok) throw new Error(`expected success, got ${JSON.stringify(outcome.error)}`);
  return JSON.parse(outcome.payload) as { pid: number; invocations: number };
}

function failure(outcome: InvokeOutcome) {
  if (outcome.ok) throw new Error(`expected a failure, got ${outcome.payload}`);
  return outcome;
}

describe.each(['pipe', 'http'] as RuntimeTransport[])('runtime host over %s: warm reuse', (transport) => {
  it('serves the second invocation from the same process, without an init duration', async () => {
    const runtime = host({ transport });
    const first = await runtime.invoke(fn('host.pid'), event());
    const second = await runtime.invoke(fn('host.pid'), event());
    expect(answer(second).pid).toBe(answer(first).pid);
    expect(answer(second).invocations).toBe(2);
    expect(first.initDurationMs).toBeGreaterThan(0);
    expect(second.initDurationMs).toBeUndefined();
    expect(second.logs.at(-1)).not.toContain('Init Duration');
    expect(runtime.stats()).toEqual([
      {
        instance: 'shop-api-dev',
        concurrency: 10,
        environments: 1,
        warm: 1,
        busy: 0,
        queued: 0,
        invocations: 2,
        errors: 0,
        throttles: 0,
        coldStarts: 1,
      },
    ]);
  });
});

describe('runtime host: concurrency and the queue', () => {
  it('runs at most `concurrency` invocations at once; the rest wait and all succeed', async () => {
    const runtime = host();
    const limited = fn('host.pid', { concurrency: 2 });
    let maxBusy = 0;
    let maxQueued = 0;
    const watcher = setInterval(() => {
      const [stats] = runtime.stats();
      maxBusy = Math.max(maxBusy, stats?.busy ?? 0);
      maxQueued = Math.max(maxQueued, stats?.queued ?? 0);
    }, 5);
    const started = Date.now();
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => runtime.invoke(limited, event({ ms: 300 }))));
    clearInterval(watcher);
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    expect(maxBusy).toBe(2);
    expect(maxQueued).toBe(3);
    // Three rounds of 300 ms: two, two, one.
    expect(Date.now() - started).toBeGreaterThanOrEqual(850);
    expect(new Set(outcomes.map((outcome) => answer(outcome).pid)).size).toBe(2);
    expect(runtime.stats()[0]).toMatchObject({ coldStarts: 2, invocations: 5, environments: 2, busy: 0, queued: 0 });
  });

  it('hands a freed environment to the next waiter, first come first served', async () => {
    const runtime = host();
    const single = fn('host.pid', { concurrency: 1 });
    const order: number[] = [];
    const outcomes = await Promise.all(
      [0, 1, 2, 3].map((i) => runtime.invoke(single, event({ ms: 50 })).then((outcome) => (order.push(i), outcome))),
    );
    expect(order).toEqual([0, 1, 2, 3]);
    expect(outcomes.map((outcome) => answer(outcome).invocations)).toEqual([1, 2, 3, 4]);
    expect(new Set(outcomes.map((outcome) => answer(outcome).pid)).size).toBe(1);
  });

  it('throttles beyond the queue with TooManyRequestsException, and keeps serving', async () => {
    const runtime = host({ maxQueuePerFunction: 1 });
    const single = fn('host.pid', { concurrency: 1 });
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => runtime.invoke(single, event({ ms: 200 }))));
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, true, false, false]);
    for (const outcome of outcomes.slice(2)) {
      expect(failure(outcome)).toMatchObject({
        cause: 'throttled',
        error: { errorType: 'TooManyRequestsException', errorMessage: 'Rate Exceeded.' },
        logs: [],
      });
    }
    expect(runtime.stats()[0]).toMatchObject({ invocations: 2, throttles: 2, errors: 0 });
    expect((await runtime.invoke(single, event())).ok).toBe(true);
  });

  it('counts every version of an instance against one limit, and keeps no more processes than it', async () => {
    const runtime = host();
    const v1 = fn('host.pid', { version: '1', concurrency: 1 });
    const v2 = fn('host.pid', { version: '2', concurrency: 1 });
    const old = answer(await runtime.invoke(v1, event())).pid;
    const [a, b] = await Promise.all([runtime.invoke(v2, event({ ms: 100 })), runtime.invoke(v1, event({ ms: 100 }))]);
    expect(answer(a).pid).not.toBe(old);
    // v2's cold start took the only slot's process: v1's idle environment was stopped for it.
    expect(await gone(old)).toBe(true);
    expect(answer(b).pid).not.toBe(answer(a).pid);
    expect(runtime.stats()[0]).toMatchObject({ environments: 1, coldStarts: 3 });
  });
});

describe('runtime host: how many environments', () => {
  it('serves a burst of quick invocations from the environments it has while they come free within scaleOutAfterMs', async () => {
    const runtime = host({ scaleOutAtOnce: 1, scaleOutAfterMs: 2000 });
    const quick = fn('host.pid', { concurrency: 10 });
    await runtime.invoke(quick, event());
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => runtime.invoke(quick, event({ ms: 5 }))));
    expect(new Set(outcomes.map((outcome) => answer(outcome).pid)).size).toBe(1);
    expect(runtime.stats()[0]).toMatchObject({ coldStarts: 1, environments: 1, invocations: 21 });
  });

  it('starts an environment for each invocation that waited scaleOutAfterMs, up to the concurrency', async () => {
    const runtime = host({ scaleOutAtOnce: 1, scaleOutAfterMs: 30 });
    const slow = fn('host.pid', { concurrency: 3 });
    await runtime.invoke(slow, event());
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => runtime.invoke(slow, event({ ms: 600 }))));
    // Three at once (one warm, two cold after 30 ms), the fourth on one of them when it comes free: never a fourth.
    expect(new Set(outcomes.map((outcome) => answer(outcome).pid)).size).toBe(3);
    expect(runtime.stats()[0]).toMatchObject({ coldStarts: 3, environments: 3 });
  });

  it('starts environments at once up to scaleOutAtOnce, as Lambda does', async () => {
    const runtime = host({ scaleOutAtOnce: 3, scaleOutAfterMs: 60_000 });
    // Each invocation answers only when all three run at once, so none can free its environment for another.
    const barrier = { dir: mkdtempSync(join(tmpdir(), 'stagecraft-barrier-')), count: 3 };
    const outcomes = await Promise.all(
      Array.from({ length: 3 }, () => runtime.invoke(fn('host.pid'), event({ barrier }))),
    );
    rmSync(barrier.dir, { recursive: true, force: true });
    expect(new Set(outcomes.map((outcome) => answer(outcome).pid)).size).toBe(3);
  });

  it('prewarm starts one environment ahead; the first invocation takes it, init duration and all', async () => {
    const runtime = host({ scaleOutAfterMs: 0 });
    const warm = fn('host.pid');
    runtime.prewarm(warm);
    runtime.prewarm(warm); // the version already has one: nothing more
    expect(runtime.stats()[0]).toMatchObject({ coldStarts: 1, environments: 1, busy: 0 });
    // Invoked while the prewarmed environment is still in its init phase: it waits for it.
    const first = await runtime.invoke(warm, event());
    expect(first.initDurationMs).toBeGreaterThan(0);
    expect(first.logs.at(-1)).toContain('Init Duration');
    expect(answer(first).invocations).toBe(1);
    expect(runtime.stats()[0]).toMatchObject({ coldStarts: 1, environments: 1, invocations: 1 });
  });
});

describe('runtime host: environments that die', () => {
  it('drops an environment whose runtime exits; the next invocation starts a new one', async () => {
    const runtime = host();
    const single = fn('host.pid', { concurrency: 1 });
    const before = answer(await runtime.invoke(single, event())).pid;
    const exited = failure(await runtime.invoke(single, event({ exit: 3 })));
    expect(exited).toMatchObject({ cause: 'exit', error: { errorType: 'Runtime.ExitError' } });
    const after = await runtime.invoke(single, event());
    expect(answer(after).pid).not.toBe(before);
    expect(after.initDurationMs).toBeGreaterThan(0);
    expect(isRunning(before)).toBe(false);
    expect(runtime.stats()[0]).toMatchObject({ invocations: 3, errors: 1, coldStarts: 2, environments: 1 });
  });

  it('kills a timed-out runtime and replaces it', async () => {
    const runtime = host();
    const quick = fn('host.pid', { concurrency: 1, timeoutSec: 1 });
    const before = answer(await runtime.invoke(quick, event())).pid;
    const timedOut = failure(await runtime.invoke(quick, event({ ms: 3000 })));
    expect(timedOut).toMatchObject({ cause: 'timeout', error: { errorType: 'Sandbox.Timedout' } });
    expect(await gone(before)).toBe(true);
    expect(answer(await runtime.invoke(quick, event())).pid).not.toBe(before);
  });

  it('answers an init error every time, as Lambda does, and keeps serving other functions', async () => {
    const runtime = host();
    const broken = fn('init-throws.handler', { functionName: 'shop-broken-dev' });
    const healthy = fn('host.pid');
    const [first, other, second] = await Promise.all([
      runtime.invoke(broken, event()),
      runtime.invoke(healthy, event()),
      runtime.invoke(broken, event()),
    ]);
    for (const outcome of [first, second]) {
      expect(failure(outcome)).toMatchObject({
        cause: 'init',
        error: { errorType: 'RangeError', errorMessage: 'configuration is missing' },
      });
    }
    expect(other.ok).toBe(true);
    expect(failure(await runtime.invoke(broken, event())).cause).toBe('init');
    const stats = new Map(runtime.stats().map((entry) => [entry.instance, entry]));
    expect(stats.get('shop-broken-dev')).toMatchObject({ invocations: 3, errors: 3, coldStarts: 3, environments: 0 });
    expect(stats.get('shop-api-dev')).toMatchObject({ invocations: 1, errors: 0, environments: 1 });
  });

  it('rejects, without using a slot, what is not the function’s fault', async () => {
    const runtime = host();
    const single = fn('host.pid', { concurrency: 1 });
    await expect(runtime.invoke(single, '{not json')).rejects.toSatisfy(
      (error) => isStagecraftError(error) && error.code === 'ARGUMENT_INVALID',
    );
    expect(runtime.stats()).toEqual([]);
    await expect(runtime.invoke(fn('host.pid', { codeDir: join(NODE_CODE, 'missing') }), event())).rejects.toSatisfy(
      (error) => isStagecraftError(error) && error.code === 'INVOKE_FAILED',
    );
    expect((await runtime.invoke(single, event())).ok).toBe(true);
    expect(runtime.stats()[0]).toMatchObject({ busy: 0, environments: 1 });
  });
});

describe('runtime host: idle environments and draining', () => {
  it('stops environments idle for idleMs', async () => {
    const runtime = host({ idleMs: 150 });
    const pid = answer(await runtime.invoke(fn('host.pid'), event())).pid;
    expect(isRunning(pid)).toBe(true);
    expect(await gone(pid, 2000)).toBe(true);
    expect(runtime.stats()[0]).toMatchObject({ environments: 0, warm: 0 });
    // The next invocation is simply cold again.
    const next = await runtime.invoke(fn('host.pid'), event());
    expect(next.initDurationMs).toBeGreaterThan(0);
  });

  it('drain lets in-flight invocations finish, then stops every process and refuses new work', async () => {
    const runtime = new RuntimeHost({ sandbox: NO_SANDBOX });
    const idlePid = answer(await runtime.invoke(fn('host.pid', { functionName: 'shop-other-dev' }), event())).pid;
    const inFlight = [0, 1, 2].map(() => runtime.invoke(fn('host.pid', { concurrency: 2 }), event({ ms: 300 })));
    await until(() => runtime.stats().some((entry) => entry.busy === 2), 10_000, 'two invocations running');
    await runtime.drain();
    const outcomes = await Promise.all(inFlight);
    expect(outcomes.every((outcome) => outcome.ok)).toBe(true);
    const pids = [idlePid, ...outcomes.map((outcome) => answer(outcome).pid)];
    expect(pids.every((pid) => !isRunning(pid))).toBe(true);
    expect(runtime.stats().every((entry) => entry.environments === 0 && entry.busy === 0)).toBe(true);
    await expect(runtime.invoke(fn('host.pid'), event())).rejects.toSatisfy(
      (error) => isStagecraftError(error) && error.code === 'INVOKE_FAILED',
    );
  });
});

describe('runtime host: logs', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'stagecraft-host-logs-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("writes every invocation's lines to the instance's file, tagged with version and request id", async () => {
    const sink = new FileLogSink(scratch);
    const runtime = new RuntimeHost({ logSink: sink, sandbox: NO_SANDBOX });
    const outcomes = [
      await runtime.invoke(fn('host.chatty'), event({ order: 1 })),
      await runtime.invoke(fn('host.chatty'), event({ order: 2 })),
    ];
    await runtime.drain();
    const text = readFileSync(logFile(scratch, 'shop-api-dev'), 'utf8');
    const entries = text
      .trimEnd()
      .split('\n')
      .map((line) => parseLogLine(line));
    expect(entries.map((entry) => entry?.line)).toEqual(outcomes.flatMap((outcome) => outcome.logs));
    for (const outcome of outcomes) {
      const own = entries.filter((entry) => entry?.requestId === outcome.requestId);
      expect(own.map((entry) => entry?.line)).toEqual(outcome.logs);
      expect(own.every((entry) => entry?.version === '3' && /^\d{4}-\d{2}-\d{2}T.*Z$/.test(entry.time))).toBe(true);
    }
    expect(text).toContain(`\tINFO\thandling 2\n`);
    expect(text).toContain(`\t${outcomes[1]?.requestId}\traw line 2\n`);
    expect(text).toMatch(/\tREPORT RequestId: [0-9a-f-]+\tDuration: /);
  });
});
