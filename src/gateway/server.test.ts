// The gateway over real HTTP on 127.0.0.1: routing to aliases and stages, translation both ways,
// and AWS's own answers when something fails.
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../test/helpers/wait.js';
import { headerValues, send } from '../../test/fixtures/gateway/support.js';
import { SYNC_PAYLOAD_LIMIT, type InvokeOutcome } from '../runtime/index.js';
import {
  createGateway,
  MAX_BODY_BYTES,
  type Gateway,
  type GatewayCall,
  type GatewayOptions,
  type GatewayStage,
  type RouteDef,
} from './index.js';

const common = { requestId: 'lambda-request', durationMs: 1, billedMs: 1, maxMemoryMb: 64, logs: [] };
const ok = (result: unknown): InvokeOutcome => ({ ...common, ok: true, payload: JSON.stringify(result) });
const failed = (cause: string): InvokeOutcome =>
  ({ ...common, ok: false, cause, error: { errorType: 'Error', errorMessage: 'boom' } }) as InvokeOutcome;

const routes: RouteDef[] = [
  { method: 'ANY', path: '/v2/{proxy+}', payload: '2.0', function: 'api' },
  { method: 'ANY', path: '/v1/{proxy+}', payload: '1.0', function: 'api' },
  { method: 'GET', path: '/orders/{id}', payload: '2.0', function: 'orders' },
];

const gateways: Gateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
});

/** A gateway whose function answers with `respond(call)`; every call is recorded. */
async function start(
  respond: (call: GatewayCall) => InvokeOutcome | Promise<InvokeOutcome>,
  options: Partial<GatewayOptions> = {},
) {
  const calls: GatewayCall[] = [];
  const stages: GatewayStage[] = [{ name: 'dev', prefix: '', routes }];
  const gateway = createGateway({
    stages: () => stages,
    invoke: async (call) => {
      calls.push(call);
      return respond(call);
    },
    now: () => new Date('2026-11-23T10:00:00.000Z'),
    ...options,
  });
  gateways.push(gateway);
  const port = await gateway.listen(0);
  return { gateway, calls, url: (path: string) => `http://127.0.0.1:${port}${path}`, port };
}

const echoEvent = (call: GatewayCall) =>
  ok({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: call.payload });

describe('translation over HTTP', () => {
  it('hands a 2.0 route an HTTP API event and answers with the apigw-requestid of the request', async () => {
    const { url, calls, port } = await start(echoEvent);
    const reply = await send(url('/v2/a/b?x=1&x=2'), {
      headers: [
        ['User-Agent', 'test'],
        ['Cookie', 'a=1; b=2'],
      ],
    });
    expect(reply.status).toBe(200);
    const event = JSON.parse(reply.body.toString()) as APIGatewayProxyEventV2;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'ANY /v2/{proxy+}',
      rawPath: '/v2/a/b',
      rawQueryString: 'x=1&x=2',
      cookies: ['a=1', 'b=2'],
      queryStringParameters: { x: '1,2' },
      pathParameters: { proxy: 'a/b' },
      requestContext: {
        accountId: '000000000000',
        apiId: 'stagecraft',
        domainName: `127.0.0.1:${port}`,
        http: { method: 'GET', path: '/v2/a/b', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
        stage: '$default',
        time: '23/Nov/2026:10:00:00 +0000',
        timeEpoch: Date.parse('2026-11-23T10:00:00.000Z'),
      },
    });
    expect(event.requestContext.requestId).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    expect(headerValues(reply, 'apigw-requestid')).toEqual([event.requestContext.requestId]);
    expect(calls).toEqual([
      {
        stage: 'dev',
        function: 'api',
        alias: 'live',
        payload: expect.any(String),
        requestId: event.requestContext.requestId,
      },
    ]);
  });

  it('hands a 1.0 route a REST event and answers with REST’s request headers', async () => {
    const { url } = await start(echoEvent);
    const reply = await send(url('/v1/a?x=1&x=2'), {
      method: 'POST',
      headers: [['Content-Type', 'application/json']],
      body: '{"a":1}',
    });
    const event = JSON.parse(reply.body.toString()) as APIGatewayProxyEvent;
    expect(event).toMatchObject({
      resource: '/v1/{proxy+}',
      path: '/v1/a',
      httpMethod: 'POST',
      queryStringParameters: { x: '2' },
      multiValueQueryStringParameters: { x: ['1', '2'] },
      pathParameters: { proxy: 'a' },
      body: '{"a":1}',
      isBase64Encoded: false,
      requestContext: {
        stage: 'dev',
        path: '/v1/a',
        resourcePath: '/v1/{proxy+}',
        requestTime: '23/Nov/2026:10:00:00 +0000',
      },
    });
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(headerValues(reply, 'x-amzn-requestid')).toEqual([event.requestContext.requestId]);
    expect(headerValues(reply, 'x-amz-apigw-id')).toEqual([event.requestContext.extendedRequestId]);
    expect(headerValues(reply, 'x-amzn-trace-id')).toEqual([event.headers['X-Amzn-Trace-Id']]);
  });

  it('writes every cookie as its own Set-Cookie header, in both formats', async () => {
    const { url } = await start((call) =>
      call.payload.includes('"version":"2.0"')
        ? ok({ statusCode: 200, cookies: ['a=1; Path=/', 'b=2'], body: 'x' })
        : ok({ statusCode: 200, multiValueHeaders: { 'Set-Cookie': ['a=1; Path=/', 'b=2'] }, body: 'x' }),
    );
    for (const path of ['/v2/c', '/v1/c']) {
      expect(headerValues(await send(url(path)), 'set-cookie')).toEqual(['a=1; Path=/', 'b=2']);
    }
  });

  it('carries binary bodies both ways untouched', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const { url } = await start((call) => {
      const event = JSON.parse(call.payload) as { body: string; isBase64Encoded: boolean };
      expect(event.isBase64Encoded).toBe(true);
      return ok({
        statusCode: 200,
        headers: { 'content-type': 'application/octet-stream' },
        body: event.body,
        isBase64Encoded: true,
      });
    });
    for (const path of ['/v2/bin', '/v1/bin']) {
      const reply = await send(url(path), {
        method: 'PUT',
        headers: [['Content-Type', 'application/octet-stream']],
        body: bytes,
      });
      expect(reply.body.equals(bytes)).toBe(true);
      expect(headerValues(reply, 'content-length')).toEqual(['256']);
    }
  });

  it('routes to smoke only with x-stagecraft-alias: smoke', async () => {
    const { url, calls } = await start(() => ok('fine'));
    await send(url('/orders/1'), { headers: [['x-stagecraft-alias', 'smoke']] });
    await send(url('/orders/1'), { headers: [['x-stagecraft-alias', 'prod']] });
    await send(url('/orders/1'));
    expect(calls.map((call) => [call.function, call.alias])).toEqual([
      ['orders', 'smoke'],
      ['orders', 'live'],
      ['orders', 'live'],
    ]);
  });

  it('serves single-stack stages under their prefixes, with the stage in the path as AWS gives it', async () => {
    const calls: GatewayCall[] = [];
    const stages: GatewayStage[] = [
      { name: 'dev', prefix: '/dev', routes },
      { name: 'prod', prefix: '/prod', routes },
    ];
    const gateway = createGateway({
      stages: () => stages,
      invoke: async (call) => (calls.push(call), echoEvent(call)),
    });
    gateways.push(gateway);
    const port = await gateway.listen(0);
    const v2 = JSON.parse((await send(`http://127.0.0.1:${port}/prod/v2/x`)).body.toString()) as APIGatewayProxyEventV2;
    expect(v2).toMatchObject({
      rawPath: '/prod/v2/x',
      routeKey: 'ANY /v2/{proxy+}',
      requestContext: { stage: 'prod', http: { path: '/prod/v2/x' } },
    });
    const v1 = JSON.parse((await send(`http://127.0.0.1:${port}/dev/v1/y`)).body.toString()) as APIGatewayProxyEvent;
    expect(v1).toMatchObject({ path: '/v1/y', requestContext: { stage: 'dev', path: '/dev/v1/y' } });
    expect(calls.map((call) => call.stage)).toEqual(['prod', 'dev']);
    expect((await send(`http://127.0.0.1:${port}/v2/x`)).status).toBe(404);
  });

  it('reads the routes on every request, so routes can change while it runs', async () => {
    let stages: GatewayStage[] = [{ name: 'dev', prefix: '', routes: [] }];
    const gateway = createGateway({ stages: () => stages, invoke: async () => ok('hi') });
    gateways.push(gateway);
    const port = await gateway.listen(0);
    expect((await send(`http://127.0.0.1:${port}/hello`)).status).toBe(404);
    stages = [
      { name: 'dev', prefix: '', routes: [{ method: 'GET', path: '/hello', payload: '2.0', function: 'hello' }] },
    ];
    expect((await send(`http://127.0.0.1:${port}/hello`)).body.toString()).toBe('hi');
  });
});

describe('AWS’s own answers', () => {
  it('answers a request no route matches with 404 {"message":"Not Found"}', async () => {
    const { url, calls } = await start(() => ok('never'));
    const reply = await send(url('/nowhere'), { method: 'POST', body: 'ignored' });
    expect(reply.status).toBe(404);
    expect(reply.body.toString()).toBe('{"message":"Not Found"}');
    expect(headerValues(reply, 'content-type')).toEqual(['application/json']);
    expect(headerValues(reply, 'apigw-requestid')).toHaveLength(1);
    expect(calls).toHaveLength(0);
  });

  it.each(['handler', 'exit', 'init', 'timeout'])(
    'answers a function failure (%s) with 500 on HTTP API routes and 502 on REST routes',
    async (cause) => {
      const { url } = await start(() => failed(cause));
      const http = await send(url('/v2/x'));
      expect([http.status, http.body.toString()]).toEqual([500, '{"message":"Internal Server Error"}']);
      const rest = await send(url('/v1/x'));
      expect([rest.status, rest.body.toString()]).toEqual([502, '{"message": "Internal server error"}']);
      expect(headerValues(rest, 'x-amzn-errortype')).toEqual(['InternalServerErrorException']);
    },
  );

  it('answers a throttled invocation with 500 on both: API Gateway does not pass Lambda’s 429 on', async () => {
    const { url } = await start(() => failed('throttled'));
    expect([(await send(url('/v2/x'))).status, (await send(url('/v1/x'))).status]).toEqual([500, 500]);
    expect((await send(url('/v1/x'))).body.toString()).toBe('{"message": "Internal server error"}');
  });

  it('answers a malformed result with 500 (HTTP API) and 502 (REST)', async () => {
    const { url } = await start(() => ok({ statusCode: 200, body: { not: 'a string' } }));
    expect((await send(url('/v2/x'))).status).toBe(500);
    expect((await send(url('/v1/x'))).status).toBe(502);
  });

  it('answers 503 (HTTP API) or 504 (REST) when the function outlasts the integration timeout', async () => {
    const { url } = await start(() => new Promise((resolve) => setTimeout(() => resolve(ok('late')), 300)), {
      integrationTimeoutMs: 50,
    });
    const http = await send(url('/v2/x'));
    expect([http.status, http.body.toString()]).toEqual([503, '{"message":"Service Unavailable"}']);
    const rest = await send(url('/v1/x'));
    expect([rest.status, rest.body.toString()]).toEqual([504, '{"message": "Endpoint request timed out"}']);
  });

  it('answers 500 and reports the error when the invocation itself is refused', async () => {
    const errors: unknown[] = [];
    const { url } = await start(() => Promise.reject(new Error('no capacity')), {
      onError: (error) => errors.push(error),
    });
    expect((await send(url('/v2/x'))).status).toBe(500);
    expect(errors).toEqual([new Error('no capacity')]);
  });

  it('answers a response header that would split the response as API Gateway does: 500 on HTTP API, 502 on REST', async () => {
    const { url } = await start(() =>
      ok({ statusCode: 200, headers: { 'x-evil': 'a\r\nSet-Cookie: pwned=1' }, body: 'hi' }),
    );
    const http = await send(url('/v2/x'));
    expect([http.status, http.statusText, http.body.toString()]).toEqual([
      500,
      'Internal Server Error',
      '{"message":"Internal Server Error"}',
    ]);
    expect(headerValues(http, 'set-cookie')).toEqual([]);
    expect(headerValues(http, 'apigw-requestid')).toHaveLength(1);
    const rest = await send(url('/v1/x'));
    expect([rest.status, rest.statusText, rest.body.toString()]).toEqual([
      502,
      'Bad Gateway',
      '{"message": "Internal server error"}',
    ]);
    expect(headerValues(rest, 'x-amzn-errortype')).toEqual(['InternalServerErrorException']);
    expect(headerValues(rest, 'set-cookie')).toEqual([]);
  });

  it('answers a body over 10 MB with 413, announced or streamed', async () => {
    const { url, calls } = await start(() => ok('never'));
    const announced = await send(url('/v2/x'), {
      method: 'POST',
      headers: [['Content-Length', String(MAX_BODY_BYTES + 1)]],
    });
    expect([announced.status, announced.body.toString()]).toEqual([413, '{"message":"Request Entity Too Large"}']);
    const streamed = await send(url('/v1/x'), {
      method: 'POST',
      headers: [['Transfer-Encoding', 'chunked']],
      body: Buffer.alloc(MAX_BODY_BYTES + 1),
    });
    expect([streamed.status, streamed.body.toString()]).toEqual([413, '{"message":"Request Too Long"}']);
    const atLimit = await send(url('/v2/x'), { method: 'POST', body: Buffer.alloc(MAX_BODY_BYTES) });
    expect([atLimit.status, atLimit.body.toString()]).toEqual([413, '{"message":"Request Entity Too Large"}']);
    expect(calls).toHaveLength(0);
  });

  it('answers 413 without invoking when the event would be over Lambda’s 6 MB, and invokes just under it', async () => {
    const { url, calls } = await start(() => ok('fine'));
    const text = { 'Content-Type': 'text/plain' };
    const over = await send(url('/v2/x'), {
      method: 'POST',
      headers: Object.entries(text),
      body: 'a'.repeat(SYNC_PAYLOAD_LIMIT),
    });
    expect([over.status, over.body.toString()]).toEqual([413, '{"message":"Request Entity Too Large"}']);
    const rest = await send(url('/v1/x'), {
      method: 'POST',
      headers: Object.entries(text),
      body: 'a'.repeat(7 * 1024 * 1024),
    });
    expect([rest.status, rest.body.toString()]).toEqual([413, '{"message":"Request Too Long"}']);
    expect(calls).toHaveLength(0);
    const under = await send(url('/v2/x'), {
      method: 'POST',
      headers: Object.entries(text),
      body: 'a'.repeat(SYNC_PAYLOAD_LIMIT - 4096),
    });
    expect([under.status, under.body.toString()]).toEqual([200, 'fine']);
    expect(calls).toHaveLength(1);
  });
});

describe('lifecycle', () => {
  it('survives a client that leaves before the function answers', async () => {
    let answer: ((outcome: InvokeOutcome) => void) | undefined;
    const { url } = await start((call) =>
      call.payload.includes('/v2/slow')
        ? new Promise((resolve) => {
            answer = resolve;
          })
        : ok('next'),
    );
    const controller = new AbortController();
    const gone = fetch(url('/v2/slow'), { signal: controller.signal }).catch((error: unknown) => error);
    await until(() => answer !== undefined, 5000, 'the slow invocation');
    controller.abort();
    await gone;
    answer?.(ok('too late'));
    expect((await send(url('/v2/next'))).status).toBe(200);
  });

  it('listens on an ephemeral port and lets in-flight requests finish on close', async () => {
    let release: (() => void) | undefined;
    const { gateway, url } = await start(
      () =>
        new Promise((resolve) => {
          release = () => resolve(ok('done'));
        }),
    );
    const inFlight = send(url('/v2/slow'));
    await until(() => release !== undefined, 5000, 'the in-flight invocation');
    const closed = gateway.close();
    let closedYet = false;
    void closed.then(() => (closedYet = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closedYet).toBe(false);
    await expect(send(url('/v2/other'))).rejects.toThrow();
    release?.();
    const reply = await inFlight;
    expect([reply.status, reply.body.toString()]).toEqual([200, 'done']);
    await closed;
    expect(gateway.server.listening).toBe(false);
  });
});
