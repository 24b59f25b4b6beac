/**
 * `stagecraft invoke` runs a deployed version in its own child process with the environment's
 * config and the Lambda context; handler faults come back Lambda-style and leave the CLI intact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';

interface InvokeJson {
  ok: boolean;
  payload?: Record<string, unknown>;
  error?: { errorType: string; errorMessage: string; trace?: string[] };
  requestId: string;
  logs: string[];
}

describe('invoke', () => {
  const app = copyApp('basic');
  let release = '';
  beforeAll(async () => {
    const built = await runCli(['build', '--json', '--dir', app.dir]);
    release = built.json<{ release: string }>().release;
    for (const env of ['dev', 'staging']) expect((await runCli(['deploy', env, '--dir', app.dir])).code).toBe(0);
  });
  afterAll(() => app.remove());
  const invoke = (fn: string, ...args: string[]) => runCli(['invoke', fn, '--json', '--dir', app.dir, ...args]);

  it('runs the live version with layered config, Stagecraft and Lambda variables, and the context object', async () => {
    const result = await invoke('hello', '--env', 'dev', '--data', '{"name":"Ada"}');
    expect(result.code, result.stderr).toBe(0);
    const { payload, requestId } = result.json<InvokeJson>();
    expect(payload).toMatchObject({
      statusCode: 200,
      body: 'hello from dev, Ada',
      env: {
        STAGECRAFT_APP: 'basic',
        STAGECRAFT_ENV: 'dev',
        STAGECRAFT_RELEASE: release,
        STAGECRAFT_TABLE_ORDERS: 'basic-orders-dev',
        SHARED: 'from-manifest',
        FN_ONLY: 'yes',
        AWS_LAMBDA_FUNCTION_NAME: 'basic-hello-dev',
        AWS_LAMBDA_FUNCTION_VERSION: '1',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
        AWS_REGION: 'us-east-1',
      },
      context: {
        functionName: 'basic-hello-dev',
        functionVersion: '1',
        memoryLimitInMB: '128',
        awsRequestId: requestId,
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:basic-hello-dev:live',
      },
    });
    const remaining = (payload?.['context'] as { remaining: number }).remaining;
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(5_000);
    const staging = (await invoke('hello', '--env', 'staging', '--alias', 'smoke')).json<InvokeJson>();
    expect(staging.payload).toMatchObject({ body: 'hello, world', env: { STAGECRAFT_ENV: 'staging' } });
  });

  it('prints the payload on stdout and the Lambda log lines on stderr', async () => {
    const result = await runCli(['invoke', 'echo', '--env', 'dev', '--data', '{"a":[1,2]}', '--dir', app.dir]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ a: [1, 2] });
    expect(result.stderr).toMatch(/START RequestId: \S+ Version: 1/);
    expect(result.stderr).toMatch(/\tINFO\techoing {"a":\[1,2\]}/);
    expect(result.stderr).toMatch(
      /REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB/,
    );
  });

  it('reads the event from a file and runs callback-style CommonJS handlers', async () => {
    app.write('event.json', '{"from":"file"}');
    const result = await invoke('legacy', '--env', 'dev', '--data', '@event.json');
    expect(result.json<InvokeJson>().payload).toEqual({ legacy: true, got: { from: 'file' } });
  });

  it('a throwing handler comes back Lambda-style with exit 1', async () => {
    const result = await invoke('boom', '--env', 'dev');
    expect(result.code).toBe(1);
    const { ok, error } = result.json<InvokeJson>();
    expect(ok).toBe(false);
    expect(error).toMatchObject({ errorType: 'TypeError', errorMessage: 'the order book is on fire' });
    expect(error?.trace?.[0]).toContain('TypeError: the order book is on fire');
    const text = await runCli(['invoke', 'boom', '--env', 'dev', '--dir', app.dir]);
    expect(JSON.parse(text.stdout)).toMatchObject({ errorType: 'TypeError' });
  });

  it('a handler past its timeout is killed: "Task timed out after 1.00 seconds", exit 1', async () => {
    const started = Date.now();
    const result = await invoke('slow', '--env', 'dev');
    expect(result.code).toBe(1);
    expect(result.json<InvokeJson>().error?.errorMessage).toContain('Task timed out after 1.00 seconds');
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it('a handler that calls process.exit is a Runtime.ExitError, exit 1', async () => {
    const result = await invoke('quit', '--env', 'dev');
    expect(result.code).toBe(1);
    expect(result.json<InvokeJson>().error).toMatchObject({ errorType: 'Runtime.ExitError' });
    expect(result.json<InvokeJson>().error?.errorMessage).toContain('exit status 7');
  });

  it('a handler that never resolves: with an empty event loop AWS answers null; with a live timer it times out', async () => {
    // AWS's Node runtime posts a null response when the event loop drains before the handler's
    // promise settles (its default beforeExit listener); we do the same.
    const drained = await invoke('hang', '--env', 'dev');
    expect(drained.code, drained.stderr).toBe(0);
    expect(drained.json<InvokeJson>()).toMatchObject({ ok: true, payload: null });
    const spinning = await invoke('spin', '--env', 'dev');
    expect(spinning.code).toBe(1);
    expect(spinning.json<InvokeJson>().error?.errorMessage).toContain('Task timed out after 1.00 seconds');
  });

  it('after every fault the CLI still works', async () => {
    expect((await invoke('echo', '--env', 'dev', '--data', '{"still":"fine"}')).json<InvokeJson>().payload).toEqual({
      still: 'fine',
    });
  });

  it('runs the handler in the sandbox, and says plainly when there is none', async () => {
    const sandboxed = await runCli(['invoke', 'echo', '--env', 'dev', '--dir', app.dir]);
    expect(sandboxed.code, sandboxed.stderr).toBe(0);
    expect(sandboxed.stderr).not.toMatch(/sandbox/i);
    const bare = await runCli(['invoke', 'echo', '--env', 'dev', '--dir', app.dir], {
      env: { STAGECRAFT_SANDBOX: 'off' },
    });
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stderr).toMatch(
      /^warning: No sandbox: nodejs20\.x handlers run as this user and can read the state directory/m,
    );
  });

  it('bad input is exit 2 with a hint', async () => {
    const badJson = await invoke('echo', '--env', 'dev', '--data', '{nope');
    expect(badJson.code).toBe(2);
    expect(badJson.json()).toMatchObject({ ok: false, error: { code: 'ARGUMENT_INVALID' } });
    app.write('big.json', JSON.stringify({ blob: 'x'.repeat(6 * 1024 * 1024) }));
    const tooLarge = await invoke('echo', '--env', 'dev', '--data', '@big.json');
    expect(tooLarge.code).toBe(2);
    expect(tooLarge.json()).toMatchObject({
      error: {
        code: 'ARGUMENT_INVALID',
        message: expect.stringContaining('RequestEntityTooLargeException: Request must be smaller than 6291456 bytes'),
      },
    });
    app.write('fits.json', JSON.stringify({ blob: 'x'.repeat(6 * 1024 * 1024 - 20) }));
    const fits = await invoke('echo', '--env', 'dev', '--data', '@fits.json');
    expect(fits.code, fits.stderr).toBe(0);
    const notDeployed = await invoke('echo', '--env', 'prod');
    expect(notDeployed.code).toBe(2);
    expect(notDeployed.json()).toMatchObject({
      error: { code: 'ALIAS_NOT_FOUND', hint: expect.stringContaining('stagecraft deploy') },
    });
  });
});
