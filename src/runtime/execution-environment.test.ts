// Execution environments as the platform sees them: timeouts, dying runtimes, warm reuse,
// custom runtimes — with real processes, over real HTTP on loopback and over the pipe.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isStagecraftError } from '../errors.js';
import {
  ExecutionEnvironment,
  type ExecutionEnvironmentOptions,
  type FunctionSpec,
  type InvokeOutcome,
} from './index.js';
import { gone, isRunning } from '../../test/helpers/processes.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/runtime', import.meta.url));
const PROVIDED = join(FIXTURES, 'provided');
chmodSync(join(PROVIDED, 'bootstrap'), 0o755); // a checkout may lose the executable bit

function spec(handler: string, overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  return {
    functionName: 'shop-worker-dev',
    version: '$LATEST',
    invokedArn: 'arn:aws:lambda:us-east-1:000000000000:function:shop-worker-dev:live',
    codeDir: join(FIXTURES, 'node'),
    handler,
    runtime: 'nodejs22.x',
    memoryMb: 128,
    timeoutSec: 3,
    environment: {},
    region: 'us-east-1',
    ...overrides,
  };
}

const started: ExecutionEnvironment[] = [];
function track(fnSpec: FunctionSpec, options: ExecutionEnvironmentOptions = {}): ExecutionEnvironment {
  const created = new ExecutionEnvironment(fnSpec, options);
  started.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((created) => created.stop()));
});

function failure(outcome: InvokeOutcome) {
  if (outcome.ok) throw new Error(`expected a failure, got ${outcome.payload}`);
  return outcome;
}

describe.each(['http', 'pipe'] as const)('over %s', (transport) => {
  const environment = (fnSpec: FunctionSpec, options: ExecutionEnvironmentOptions = {}): ExecutionEnvironment =>
    track(fnSpec, { ...options, transport });

  describe('execution environment: warm reuse', () => {
    it('serves sequential invocations from one process; only the first reports its init', async () => {
      const lines: string[] = [];
      const env = environment(spec('handlers.counter'), { onLog: (line) => lines.push(line) });
      await env.start();
      expect(env.state).toBe('ready');
      const outcomes: InvokeOutcome[] = [];
      for (let i = 0; i < 3; i += 1) outcomes.push(await env.invoke('{}'));
      const payloads = outcomes.map((outcome) => (outcome.ok ? JSON.parse(outcome.payload) : outcome.error));
      expect(payloads.map((p) => p.invocations)).toEqual([1, 2, 3]);
      // One process (inside the sandbox its pid is its PID namespace's, not the host's).
      expect(new Set(payloads.map((p) => p.pid)).size).toBe(1);
      expect(outcomes[0]?.initDurationMs).toBeGreaterThan(0);
      expect(outcomes.slice(1).map((outcome) => outcome.initDurationMs)).toEqual([undefined, undefined]);
      const reports = outcomes.map((outcome) => outcome.logs.at(-1) ?? '');
      expect(reports[0]).toMatch(/\tInit Duration: \d+\.\d{2} ms$/);
      expect(reports.slice(1).every((report) => !report.includes('Init Duration'))).toBe(true);
      expect(outcomes.every((outcome) => outcome.maxMemoryMb > 0 && outcome.billedMs >= 1)).toBe(true);
      // The live tail saw every line of every outcome, in order.
      expect(lines).toEqual(outcomes.flatMap((outcome) => outcome.logs));
      expect(env.state).toBe('ready');
    });

    it('refuses a second invocation while one runs, and a payload that is not JSON', async () => {
      const env = environment(spec('handlers.sleeps'));
      const first = env.invoke(JSON.stringify({ ms: 300 }));
      await expect(env.invoke('{}')).rejects.toSatisfy(
        (error) => isStagecraftError(error) && error.code === 'INVOKE_FAILED',
      );
      expect((await first).ok).toBe(true);
      await expect(env.invoke('{not json')).rejects.toSatisfy(
        (error) => isStagecraftError(error) && error.code === 'ARGUMENT_INVALID',
      );
    });
  });

  describe('execution environment: timeouts and dying runtimes', () => {
    it('kills a runtime that runs past its timeout and answers Sandbox.Timedout', async () => {
      const env = environment(spec('handlers.sleeps', { timeoutSec: 1 }));
      await env.start();
      const pid = env.pid ?? 0;
      const outcome = failure(await env.invoke(JSON.stringify({ ms: 5000 })));
      expect(outcome.cause).toBe('timeout');
      expect(outcome.error).toEqual({
        errorType: 'Sandbox.Timedout',
        errorMessage: `RequestId: ${outcome.requestId} Error: Task timed out after 1.00 seconds`,
      });
      expect(outcome.durationMs).toBeGreaterThanOrEqual(1000);
      expect(outcome.durationMs).toBeLessThan(2000);
      expect(outcome.logs.at(-1)).toMatch(/\tStatus: timeout$/);
      expect(env.state).toBe('dead');
      expect(isRunning(pid)).toBe(false);
      await expect(env.invoke('{}')).rejects.toSatisfy(
        (error) => isStagecraftError(error) && error.code === 'INVOKE_FAILED',
      );
    });

    it('times out a never-settling handler while a timer keeps the event loop alive', async () => {
      const outcome = failure(
        await environment(spec('handlers.neverSettlesWithTimer', { timeoutSec: 1 })).invoke('{}'),
      );
      expect(outcome.error.errorType).toBe('Sandbox.Timedout');
      expect(outcome.error.errorMessage).toContain('Task timed out after 1.00 seconds');
    });

    it('answers Runtime.ExitError when the runtime exits mid-invocation', async () => {
      const env = environment(spec('handlers.exits'));
      const outcome = failure(await env.invoke(JSON.stringify({ code: 3 })));
      expect(outcome.cause).toBe('exit');
      expect(outcome.error).toEqual({
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${outcome.requestId} Error: Runtime exited with error: exit status 3`,
      });
      expect(outcome.logs.some((line) => line.endsWith('\tabout to exit'))).toBe(true);
      expect(outcome.logs.at(-1)).toMatch(/\tStatus: error\tError Type: Runtime\.ExitError$/);
      expect(env.state).toBe('dead');
    });

    it('answers Runtime.ExitError or OutOfMemory when the handler exhausts a 128 MB function', async () => {
      const env = environment(spec('handlers.exhaustsMemory', { memoryMb: 128, timeoutSec: 30 }));
      const outcome = failure(await env.invoke('{}'));
      expect(outcome.cause).toBe('exit');
      // V8 aborts at its heap limit, as under AWS's own bootstrap flags, unless the whole process
      // (heap and the rest) reaches the function's memory first and is killed for it.
      expect(['Runtime.ExitError', 'Runtime.OutOfMemory']).toContain(outcome.error.errorType);
      expect(outcome.error.errorMessage).toMatch(
        /Error: Runtime exited with error: (signal: aborted|signal: killed|exit status \d+)$/,
      );
      expect(outcome.maxMemoryMb).toBeGreaterThan(0);
      expect(env.state).toBe('dead');
    });

    it('stops cleanly: the runtime process is gone afterwards', async () => {
      const env = environment(spec('handlers.asyncObject'));
      await env.start();
      const pid = env.pid ?? 0;
      expect(isRunning(pid)).toBe(true);
      await env.stop();
      expect(isRunning(pid)).toBe(false);
      expect(env.state).toBe('dead');
      await env.stop();
    });

    it('refuses a code folder that does not exist', async () => {
      const env = environment(spec('handlers.asyncObject', { codeDir: join(FIXTURES, 'no-such-folder') }));
      await expect(env.start()).rejects.toSatisfy(
        (error) => isStagecraftError(error) && error.code === 'INVOKE_FAILED',
      );
    });
  });

  describe('execution environment: Node binary', () => {
    const hostMajor = Number(process.versions.node.split('.')[0]);
    const otherRuntime = `nodejs${hostMajor + 2}.x`;

    it("warns when the function's Node major differs from the host's", async () => {
      const warnings: string[] = [];
      const env = environment(spec('handlers.asyncObject', { runtime: otherRuntime }), {
        warn: (message) => warnings.push(message),
      });
      expect((await env.invoke('{}')).ok).toBe(true);
      expect(warnings).toEqual([
        `${otherRuntime} runs on the host's Node ${process.version} here; set STAGECRAFT_NODE_${hostMajor + 2} to a Node ${hostMajor + 2} binary for a faithful match`,
      ]);
    });

    it('runs on the binary named by STAGECRAFT_NODE_<major>, without a warning', async () => {
      const warnings: string[] = [];
      const hostEnv = { ...process.env, [`STAGECRAFT_NODE_${hostMajor + 2}`]: process.execPath };
      const env = environment(spec('handlers.asyncObject', { runtime: otherRuntime }), {
        hostEnv,
        warn: (message) => warnings.push(message),
      });
      expect((await env.invoke('{}')).ok).toBe(true);
      expect(warnings).toEqual([]);
    });
  });
});

describe('execution environment: provided runtimes', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'stagecraft-provided-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('runs a shell bootstrap that speaks the Runtime API with curl, twice in a row — HTTP even when the pipe is asked for', async () => {
    const env = track(spec('function.handler', { runtime: 'provided.al2023', codeDir: PROVIDED }), {
      transport: 'pipe',
    });
    expect(env.transport).toBe('http');
    const first = await env.invoke(JSON.stringify({ order: 1 }));
    const second = await env.invoke(JSON.stringify({ order: 2 }));
    for (const [outcome, order] of [
      [first, 1],
      [second, 2],
    ] as const) {
      if (!outcome.ok) throw new Error(JSON.stringify(outcome.error));
      expect(JSON.parse(outcome.payload)).toEqual({ handler: 'function.handler', event: { order } });
      expect(outcome.logs).toContain(`handling ${outcome.requestId}`);
    }
    expect(first.logs[0]).toBe('bootstrap started for function.handler');
    expect(first.initDurationMs).toBeGreaterThan(0);
    expect(second.initDurationMs).toBeUndefined();
  });

  it('kills everything a timed-out bootstrap started', async () => {
    const codeDir = mkdtempSync(join(scratch, 'sleepy-'));
    const pidFile = join(codeDir, 'sleep.pid');
    writeFileSync(
      join(codeDir, 'bootstrap'),
      [
        '#!/bin/bash',
        'curl -sS "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next" > /dev/null',
        `sleep 30 & echo $! > '${pidFile}'`,
        'wait',
      ].join('\n'),
      { mode: 0o755 },
    );
    // Without the sandbox (whose PID namespace would take the tree down anyway): the bootstrap writes into its code folder.
    const outcome = failure(
      await track(spec('x', { runtime: 'provided', codeDir, timeoutSec: 1 }), {
        sandbox: { bwrap: undefined, off: true },
      }).invoke('{}'),
    );
    expect(outcome.error.errorType).toBe('Sandbox.Timedout');
    // SIGKILL went to the whole process group, not just to bash.
    expect(await gone(Number(readFileSync(pidFile, 'utf8')))).toBe(true);
  });

  it('answers Runtime.InvalidEntrypoint when there is no bootstrap to run', async () => {
    const env = track(spec('x', { runtime: 'provided.al2023', codeDir: scratch }));
    const outcome = failure(await env.invoke('{}'));
    expect(outcome.cause).toBe('init');
    expect(outcome.error).toEqual({
      errorType: 'Runtime.InvalidEntrypoint',
      errorMessage: `RequestId: ${outcome.requestId} Error: Couldn't find valid bootstrap(s): [${join(scratch, 'bootstrap')}]`,
    });
  });
});
