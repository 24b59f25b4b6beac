// The Runtime API server at the protocol level, spoken to with plain HTTP as a custom runtime would.
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_RESPONSE_BYTES, RuntimeApiServer, type Invocation, type RuntimeApiListener } from './runtime-api-server.js';

type Heard = [string, ...unknown[]];

async function serve(): Promise<{ api: RuntimeApiServer; heard: Heard[]; url: (path: string) => string }> {
  const heard: Heard[] = [];
  const listener: RuntimeApiListener = {
    next: () => heard.push(['next']),
    delivered: (invocation) => heard.push(['delivered', invocation.requestId]),
    response: (requestId, payload) => heard.push(['response', requestId, payload]),
    responseTooLarge: (requestId, bytes) => heard.push(['tooLarge', requestId, bytes]),
    error: (requestId, error) => heard.push(['error', requestId, error]),
    initError: (error) => heard.push(['initError', error]),
  };
  const api = await RuntimeApiServer.listen(listener);
  servers.push(api);
  return { api, heard, url: (path) => `http://${api.address}/2018-06-01/runtime${path}` };
}

const servers: RuntimeApiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((api) => api.close()));
});

const invocation = (requestId: string): Invocation => ({
  requestId,
  payload: '{"hello":"world"}',
  deadlineMs: 1_700_000_000_000,
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn:live',
  traceId: 'Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0',
  clientContext: '{"custom":{}}',
});

const post = (url: string, body: string, headers: Record<string, string> = {}) => fetch(url, { method: 'POST', body, headers });

describe('runtime API server', () => {
  it('listens on loopback on a free port', async () => {
    const { api } = await serve();
    expect(api.address).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('parks next until an invocation arrives, then answers with the event and its headers', async () => {
    const { api, heard, url } = await serve();
    const next = fetch(url('/invocation/next'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(heard).toEqual([['next']]);
    api.deliver(invocation('req-1'));
    const res = await next;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"hello":"world"}');
    expect(Object.fromEntries([...res.headers].filter(([name]) => name.startsWith('lambda-runtime-')))).toEqual({
      'lambda-runtime-aws-request-id': 'req-1',
      'lambda-runtime-deadline-ms': '1700000000000',
      'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:us-east-1:000000000000:function:fn:live',
      'lambda-runtime-trace-id': 'Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0',
      'lambda-runtime-client-context': '{"custom":{}}',
    });
    expect(heard).toEqual([['next'], ['delivered', 'req-1']]);
  });

  it('queues an invocation until the runtime asks, and accepts one result per invocation', async () => {
    const { api, heard, url } = await serve();
    api.deliver(invocation('req-2'));
    expect(() => api.deliver(invocation('req-3'))).toThrow(/already has an invocation/);
    expect((await fetch(url('/invocation/next'))).headers.get('lambda-runtime-aws-request-id')).toBe('req-2');
    const accepted = await post(url('/invocation/req-2/response'), '"done"');
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toEqual({ status: 'OK' });
    const again = await post(url('/invocation/req-2/response'), '"twice"');
    expect(again.status).toBe(400);
    expect(await again.json()).toEqual({ errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
    expect(heard.at(-1)).toEqual(['response', 'req-2', '"done"']);
  });

  it('passes error documents through, filling the type from the header when the body lacks it', async () => {
    const { api, heard, url } = await serve();
    api.deliver(invocation('req-4'));
    await fetch(url('/invocation/next'));
    const body = JSON.stringify({ errorMessage: 'boom', stackTrace: ['at main (main.go:1)'] });
    const res = await post(url('/invocation/req-4/error'), body, { 'Lambda-Runtime-Function-Error-Type': 'Custom.Failure' });
    expect(res.status).toBe(202);
    expect(heard.at(-1)).toEqual([
      'error',
      'req-4',
      { errorType: 'Custom.Failure', errorMessage: 'boom', stackTrace: ['at main (main.go:1)'] },
    ]);
  });

  it('takes an init error only before init is over', async () => {
    const { api, heard, url } = await serve();
    const early = await post(url('/init/error'), JSON.stringify({ errorType: 'Runtime.ImportModuleError', errorMessage: 'x' }));
    expect(early.status).toBe(202);
    expect(heard.at(-1)).toEqual(['initError', { errorType: 'Runtime.ImportModuleError', errorMessage: 'x' }]);
    api.deliver(invocation('req-5'));
    await fetch(url('/invocation/next'));
    const late = await post(url('/init/error'), '{}');
    expect(late.status).toBe(403);
  });

  it('refuses a response over the 6 MB limit with 413', async () => {
    const { api, heard, url } = await serve();
    api.deliver(invocation('req-6'));
    await fetch(url('/invocation/next'));
    const res = await post(url('/invocation/req-6/response'), 'x'.repeat(MAX_RESPONSE_BYTES + 1));
    expect(res.status).toBe(413);
    expect(heard.at(-1)).toEqual(['tooLarge', 'req-6', MAX_RESPONSE_BYTES + 1]);
  });

  it('answers 404 for anything else', async () => {
    const { url } = await serve();
    expect((await fetch(url('/invocation/req-7/other'), { method: 'POST' })).status).toBe(404);
    expect((await fetch(url('/invocation/next'), { method: 'POST' })).status).toBe(404);
  });
});
