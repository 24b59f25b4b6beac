// Every line a handler prints is filed under the invocation that printed it, however much it
// prints; past the documented cap one line says how many were dropped.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ExecutionEnvironment, type FunctionSpec } from './index.js';
import { MAX_LINES } from './log-router.js';

const CODE = fileURLToPath(new URL('../../test/fixtures/runtime/node', import.meta.url));
const envs: ExecutionEnvironment[] = [];
afterEach(async () => {
  await Promise.all(envs.splice(0).map((env) => env.stop()));
});

const spec: FunctionSpec = {
  functionName: 'shop-chatty-dev',
  version: '1',
  invokedArn: 'arn:aws:lambda:us-east-1:000000000000:function:shop-chatty-dev',
  codeDir: CODE,
  handler: 'chatty.handler',
  runtime: 'nodejs20.x',
  memoryMb: 256,
  timeoutSec: 60,
  environment: {},
  region: 'us-east-1',
};

/** The lines between START and END. */
const body = (logs: string[]) =>
  logs.slice(
    logs.findIndex((line) => line.startsWith('START')) + 1,
    logs.findIndex((line) => line.startsWith('END')),
  );

describe.each(['http', 'pipe'] as const)('log capture over %s', (transport) => {
  it('keeps an invocation’s lines under it, the first MAX_LINES of them, and says how many were dropped', async () => {
    const env = new ExecutionEnvironment(spec, { transport });
    envs.push(env);
    const big = await env.invoke('{"tag":"big","lines":50000}');
    const next = await env.invoke('{"tag":"small","lines":3}');
    const bigLines = body(big.logs);
    expect(bigLines).toHaveLength(MAX_LINES + 1);
    expect(bigLines.slice(0, MAX_LINES).every((line, i) => line.startsWith(`big-${i} `))).toBe(true);
    expect(bigLines.at(-1)).toBe(
      `[stagecraft] ${50000 - MAX_LINES} more log line(s) dropped: at most ${MAX_LINES} lines are kept per invocation`,
    );
    expect(next.logs.filter((line) => line.startsWith('big-'))).toEqual([]);
    expect(body(next.logs).map((line) => line.split(' ')[0])).toEqual(['small-0', 'small-1', 'small-2']);
  });
});
