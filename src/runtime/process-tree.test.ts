// An environment's whole tree goes with it: a detached child (own process group) and an orphan
// reparented away from the runtime, on stop, on a timeout and when the runtime exits by itself.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ExecutionEnvironment, type FunctionSpec, type InvokeOutcome } from './index.js';
import { gone, isRunning } from '../../test/helpers/processes.js';

const CODE = fileURLToPath(new URL('../../test/fixtures/runtime/node', import.meta.url));
const leftovers: number[] = [];
const envs: ExecutionEnvironment[] = [];
afterEach(async () => {
  await Promise.all(envs.splice(0).map((env) => env.stop()));
  for (const pid of leftovers.splice(0)) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
});

function environment(handler: string): ExecutionEnvironment {
  const spec: FunctionSpec = {
    functionName: 'shop-tree-dev',
    version: '1',
    invokedArn: 'arn:aws:lambda:us-east-1:000000000000:function:shop-tree-dev',
    codeDir: CODE,
    handler,
    runtime: 'nodejs20.x',
    memoryMb: 128,
    timeoutSec: 5,
    environment: {},
    region: 'us-east-1',
  };
  // Without bwrap (whose PID namespace takes everything down by itself; sandbox.test.ts): the process-tree kill alone.
  const env = new ExecutionEnvironment(spec, { sandbox: { bwrap: undefined, off: true } });
  envs.push(env);
  return env;
}

function pidOf(outcome: InvokeOutcome): number {
  if (!outcome.ok) throw new Error(`expected an answer, got ${outcome.error.errorMessage}`);
  const { pid } = JSON.parse(outcome.payload) as { pid: number };
  leftovers.push(pid);
  return pid;
}

describe('killing an environment kills everything it started', () => {
  it.each(['tree.detached', 'tree.orphan'])('%s: gone when the environment is stopped', async (handler) => {
    const env = environment(handler);
    const pid = pidOf(await env.invoke('{}'));
    expect(isRunning(pid)).toBe(true);
    await env.stop();
    expect(await gone(pid)).toBe(true);
  });

  it('an orphan is gone when the runtime itself dies', async () => {
    const env = environment('tree.orphan');
    const pid = pidOf(await env.invoke('{}'));
    const runtime = env.pid!;
    process.kill(runtime, 'SIGKILL'); // the runtime alone, as an out-of-memory kill would
    expect(await gone(runtime)).toBe(true);
    expect(await gone(pid)).toBe(true);
  });
});
