// A multi-line secret holding `"` and `\` never reaches the logs or a reported error, whatever
// way the handler prints it: a real Node runtime, every captured line checked.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ExecutionEnvironment, type FunctionSpec } from './index.js';

const CODE = fileURLToPath(new URL('../../test/fixtures/runtime/secrets', import.meta.url));
const SECRET = 'first "quoted" line with a \\ backslash\nsecond line: p@ss\\w0rd"x\'y\n  third line padded  ';

const envs: ExecutionEnvironment[] = [];
afterEach(async () => {
  await Promise.all(envs.splice(0).map((env) => env.stop()));
});

function spec(): FunctionSpec {
  return {
    functionName: 'shop-leaky-dev',
    version: '1',
    invokedArn: 'arn:aws:lambda:us-east-1:000000000000:function:shop-leaky-dev:live',
    codeDir: CODE,
    handler: 'leaky.handler',
    runtime: 'nodejs20.x',
    memoryMb: 128,
    timeoutSec: 5,
    environment: { SECRET },
    region: 'us-east-1',
    redact: [SECRET],
  };
}

describe('multi-line secrets', () => {
  it('are masked on every line of the logs and the error, however the handler prints them', async () => {
    const logs: string[] = [];
    const env = new ExecutionEnvironment(spec(), { onLog: (line) => logs.push(line) });
    envs.push(env);
    const ok = await env.invoke('{}');
    expect(ok.ok).toBe(true);
    const failed = await env.invoke('{"fail":true}');
    expect(failed.ok).toBe(false);
    const everything = [...logs, ...ok.logs, ...failed.logs, JSON.stringify(failed.ok ? {} : failed.error)].join('\n');
    expect(everything).toContain('****');
    for (const word of ['quoted', 'backslash', 'p@ss', 'padded'])
      expect(everything, `"${word}" leaked`).not.toContain(word);
  });
});
