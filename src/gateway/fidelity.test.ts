// Fidelity: four real apps answer through the gateway exactly as they answer when run natively —
// status, every header line, every Set-Cookie, the body byte for byte — under both payload formats.
// `invoke` runs each app's Lambda handler in-process on the event JSON (stringify → parse →
// handler → stringify): precisely the translation the gateway owns.
//
// Header lines not compared, and why: `date` (the second it was sent), `connection` and
// `keep-alive` (hop-by-hop, about the TCP connection: RFC 9110 §7.6.1), `content-length` and
// `transfer-encoding` (framing: API Gateway recomputes the length of the body it sends; equal
// bodies are asserted and the gateway's content-length is checked against its body), and the
// headers API Gateway adds of its own (apigw-requestid; x-amzn-requestid, x-amz-apigw-id and
// x-amzn-trace-id for REST), asserted present instead. Where AWS itself answers unlike the app run
// natively, the case says how, with the source: a default content type, 2.0's comma-joined headers.
import { serve } from '@hono/node-server';
import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expressApp, expressHandler } from '../../test/fixtures/gateway/apps/express-app.js';
import { fastifyApp, fastifyHandler } from '../../test/fixtures/gateway/apps/fastify-app.js';
import { honoApp, honoHandler } from '../../test/fixtures/gateway/apps/hono-app.js';
import { middyHandler, middyServer } from '../../test/fixtures/gateway/apps/middy-handler.js';
import { PNG } from '../../test/fixtures/gateway/apps/shared.js';
import { send, type Reply, type SendOptions } from '../../test/fixtures/gateway/support.js';
import type { InvokeOutcome } from '../runtime/index.js';
import { createGateway, type Gateway, type GatewayCall } from './index.js';

type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

const lambdaContext = (call: GatewayCall): Context => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName: call.function,
  functionVersion: '1',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${call.function}:${call.alias}`,
  memoryLimitInMB: '128',
  awsRequestId: randomUUID(),
  logGroupName: `/aws/lambda/${call.function}`,
  logStreamName: '2026/11/23/[1]0123456789abcdef',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

/** The function, in-process: what the runtime does with the event minus the process boundary. */
const inProcess = (handler: LambdaHandler) => async (call: GatewayCall): Promise<InvokeOutcome> => {
  const common = { requestId: randomUUID(), durationMs: 0, billedMs: 1, maxMemoryMb: 0, logs: [] };
  try {
    const result = await handler(JSON.parse(call.payload), lambdaContext(call));
    return { ...common, ok: true, payload: JSON.stringify(result ?? null) };
  } catch (error) {
    return { ...common, ok: false, cause: 'handler', error: { errorType: 'Error', errorMessage: String(error) } };
  }
};

const IGNORED = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding', 'apigw-requestid', 'x-amzn-requestid', 'x-amz-apigw-id', 'x-amzn-trace-id']);

interface Comparable { status: number; headers: Array<[string, string]>; body: string }
const comparable = (reply: Reply): Comparable => ({
  status: reply.status,
  headers: reply.headers.filter(([name]) => !IGNORED.has(name)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  body: reply.body.toString('base64'),
});

interface Case {
  name: string;
  path: string;
  options?: SendOptions;
  /** Apps that have no such route (the middy handler keeps to JSON, cookies and binary). */
  absentFrom?: string[];
  /**
   * What AWS itself changes, given the native answer — each with its source. Without it the
   * gateway's answer must equal the native one.
   */
  aws?: (native: Comparable, payload: '2.0' | '1.0', app: string) => Comparable;
}

/** An HTTP API gives a response without a content type `text/plain; charset=utf-8`, a REST API `application/json`. */
const defaultContentType = (native: Comparable, payload: '2.0' | '1.0'): Comparable =>
  native.headers.some(([name]) => name === 'content-type')
    ? native
    : { ...comparable({ status: native.status, headers: [...native.headers, ['content-type', payload === '2.0' ? 'text/plain; charset=utf-8' : 'application/json']], body: Buffer.from(native.body, 'base64') }) };

const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 7) % 256));

const cases: Case[] = [
  { name: 'a JSON route with a path parameter and a repeated query parameter', path: '/items/42?tag=a&tag=b%20c' },
  {
    name: 'a JSON body',
    path: '/echo',
    options: { method: 'POST', headers: [['Content-Type', 'application/json']], body: '{"hello":"wörld","n":[1,2]}' },
  },
  {
    name: 'a form body (base64 on an HTTP API, text on REST)',
    path: '/form',
    options: { method: 'POST', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: 'a=1&b=two+words&c=%E2%9C%93' },
    absentFrom: ['middy'],
  },
  { name: 'request cookies in, two Set-Cookie headers out', path: '/cookies', options: { headers: [['Cookie', 'a=1; b=2']] } },
  { name: 'a binary response (PNG)', path: '/image.png' },
  {
    name: 'a binary round trip',
    path: '/upload',
    options: { method: 'POST', headers: [['Content-Type', 'application/octet-stream']], body: bytes },
  },
  { name: 'a redirect', path: '/redirect', absentFrom: ['middy'], aws: defaultContentType },
  { name: 'an empty 204', path: '/empty', absentFrom: ['middy'], aws: defaultContentType },
  { name: 'the app’s own 404', path: '/nope' },
  {
    name: 'a repeated request header',
    path: '/headers',
    options: { headers: [['X-Multi', 'a'], ['X-Multi', 'b']] },
    absentFrom: ['middy'],
    aws: (native, payload, app) => {
      const body = Buffer.from(native.body, 'base64').toString();
      // 2.0: "Duplicate headers are combined with commas" — with no space; Node joins them with ", ".
      // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
      if (payload === '2.0') return { ...native, body: Buffer.from(body.replace('"a, b"', '"a,b"')).toString('base64') };
      // 1.0: a REST event has the last value in `headers` and all of them in `multiValueHeaders`;
      // serverless-http lets `headers` win, so Express on a real REST API sees only the last value too.
      if (app === 'express') return { ...native, body: Buffer.from(body.replace('"a, b"', '"b"')).toString('base64') };
      return native;
    },
  },
];

interface App { name: string; handler: LambdaHandler; listen: () => Promise<{ port: number; close: () => Promise<void> }> }

const closeServer = (server: Server) => () => new Promise<void>((resolve) => server.close(() => resolve()));
const listenServer = (server: Server): Promise<{ port: number; close: () => Promise<void> }> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as AddressInfo).port, close: closeServer(server) })));

const apps: App[] = [
  {
    name: 'express',
    handler: expressHandler as LambdaHandler,
    listen: () => new Promise((resolve) => {
      const server = expressApp().listen(0, '127.0.0.1', () => resolve({ port: (server.address() as AddressInfo).port, close: closeServer(server) }));
    }),
  },
  {
    name: 'hono',
    handler: honoHandler as LambdaHandler,
    listen: () => new Promise((resolve) => {
      const server = serve({ fetch: honoApp().fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
        resolve({ port: info.port, close: closeServer(server as Server) }));
    }),
  },
  {
    name: 'fastify',
    handler: fastifyHandler as LambdaHandler,
    listen: async () => {
      const app = fastifyApp();
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
    },
  },
  {
    name: 'middy',
    handler: middyHandler as unknown as LambdaHandler,
    listen: () => listenServer(middyServer(lambdaContext({ stage: 'native', function: 'middy', alias: 'live', payload: '', requestId: '' }))),
  },
];

describe.each(apps)('$name', (app) => {
  let native: { port: number; close: () => Promise<void> };
  const gateways: Partial<Record<'2.0' | '1.0', { gateway: Gateway; port: number }>> = {};

  beforeAll(async () => {
    native = await app.listen();
    for (const payload of ['2.0', '1.0'] as const) {
      const gateway = createGateway({
        stages: () => stages[payload],
        invoke: inProcess(app.handler),
      });
      gateways[payload] = { gateway, port: await gateway.listen(0) };
    }
  });
  afterAll(async () => {
    await Promise.all([native.close(), ...Object.values(gateways).map((entry) => entry.gateway.close())]);
  });

  const stages = {
    '2.0': [{ name: 'dev', prefix: '', routes: [{ method: 'ANY', path: '/{proxy+}', payload: '2.0' as const, function: app.name }] }],
    '1.0': [{ name: 'dev', prefix: '', routes: [{ method: 'ANY', path: '/{proxy+}', payload: '1.0' as const, function: app.name }] }],
  };

  describe.each(['2.0', '1.0'] as const)('payload %s', (payload) => {
    it.each(cases.filter((c) => !c.absentFrom?.includes(app.name)))('$name', async ({ path, options, aws }) => {
      const direct = await send(`http://127.0.0.1:${native.port}${path}`, options);
      const through = await send(`http://127.0.0.1:${gateways[payload]!.port}${path}`, options);
      expect(direct.status).toBeLessThan(500);
      const expected = aws ? aws(comparable(direct), payload, app.name) : comparable(direct);
      expect(comparable(through)).toEqual(expected);
      // The gateway's own headers, and a length that is the body's.
      expect(through.headers.some(([name]) => name === (payload === '2.0' ? 'apigw-requestid' : 'x-amzn-requestid'))).toBe(true);
      const length = through.headers.find(([name]) => name === 'content-length')?.[1];
      if (through.status !== 204 && through.status !== 304) expect(length).toBe(String(through.body.length));
    });
  });
});

it('the binary cases carry real binary data', () => {
  expect(PNG.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(bytes.some((byte) => byte > 0x7f) && bytes.includes(0)).toBe(true);
});
