// `memory` is enforced on the whole runtime process, as Lambda enforces it on the sandbox: native
// memory (Buffers, a custom runtime's own) counts, and going over kills the environment.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ExecutionEnvironment, type FunctionSpec, type InvokeOutcome } from './index.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/runtime', import.meta.url));
const envs: ExecutionEnvironment[] = [];
afterEach(async () => {
  await Promise.all(envs.splice(0).map((env) => env.stop()));
});

function environment(overrides: Partial<FunctionSpec>): ExecutionEnvironment {
  const spec: FunctionSpec = {
    functionName: 'shop-hog-dev',
    version: '1',
    invokedArn: 'arn:aws:lambda:us-east-1:000000000000:function:shop-hog-dev',
    codeDir: `${FIXTURES}/node`,
    handler: 'memory.hog',
    runtime: 'nodejs20.x',
    memoryMb: 128,
    timeoutSec: 20,
    environment: {},
    region: 'us-east-1',
    ...overrides,
  };
  const env = new ExecutionEnvironment(spec);
  envs.push(env);
  return env;
}

function expectOutOfMemory(outcome: InvokeOutcome): void {
  expect(outcome).toMatchObject({
    ok: false,
    cause: 'exit',
    error: {
      errorType: 'Runtime.OutOfMemory',
      errorMessage: `RequestId: ${outcome.requestId} Error: Runtime exited with error: signal: killed`,
    },
  });
  expect(outcome.logs.at(-1)).toMatch(
    /Memory Size: 128 MB\tMax Memory Used: 128 MB\t.*Status: error\tError Type: Runtime\.OutOfMemory$/,
  );
}

describe.each([
  ['nodejs20.x', { handler: 'memory.hog' }],
  ['provided.al2023', { runtime: 'provided.al2023', codeDir: `${FIXTURES}/memory-hog`, handler: 'hog' }],
] as const)('memory limit (%s)', (_name, overrides) => {
  it('answers under the limit; over it the environment is killed and the invocation is Runtime.OutOfMemory', async () => {
    const env = environment(overrides);
    const small = await env.invoke('{"mb":4}');
    expect(small.ok, JSON.stringify(small)).toBe(true);
    expect(small.maxMemoryMb).toBeLessThanOrEqual(128);
    expectOutOfMemory(await env.invoke('{"mb":300}'));
    expect(env.state).toBe('dead');
    expect(env.pid).toBeUndefined();
  });
});

it('a runtime growing during the invocation is killed while it runs, long before its timeout', async () => {
  const env = environment({ handler: 'memory.hog' });
  const outcome = await env.invoke('{"mb":600,"stepMs":5}');
  expectOutOfMemory(outcome);
  expect(outcome.durationMs).toBeLessThan(20_000);
});
