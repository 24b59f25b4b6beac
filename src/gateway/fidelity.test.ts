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
import { bytes, cases, comparable } from '../../test/fixtures/gateway/cases.js';
import { send } from '../../test/fixtures/gateway/support.js';
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
const inProcess =
  (handler: LambdaHandler) =>
  async (call: GatewayCall): Promise<InvokeOutcome> => {
    const common = { requestId: randomUUID(), durationMs: 0, billedMs: 1, maxMemoryMb: 0, logs: [] };
    try {
      const result = await handler(JSON.parse(call.payload), lambdaContext(call));
      return { ...common, ok: true, payload: JSON.stringify(result ?? null) };
    } catch (error) {
      return { ...common, ok: false, cause: 'handler', error: { errorType: 'Error', errorMessage: String(error) } };
    }
  };

interface App {
  name: string;
  handler: LambdaHandler;
  listen: () => Promise<{ port: number; close: () => Promise<void> }>;
}

const closeServer = (server: Server) => () => new Promise<void>((resolve) => server.close(() => resolve()));
const listenServer = (server: Server): Promise<{ port: number; close: () => Promise<void> }> =>
  new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ port: (server.address() as AddressInfo).port, close: closeServer(server) }),
    ),
  );

const apps: App[] = [
  {
    name: 'express',
    handler: expressHandler as LambdaHandler,
    listen: () =>
      new Promise((resolve) => {
        const server = expressApp().listen(0, '127.0.0.1', () =>
          resolve({ port: (server.address() as AddressInfo).port, close: closeServer(server) }),
        );
      }),
  },
  {
    name: 'hono',
    handler: honoHandler as LambdaHandler,
    listen: () =>
      new Promise((resolve) => {
        const server = serve({ fetch: honoApp().fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
          resolve({ port: info.port, close: closeServer(server as Server) }),
        );
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
    listen: () =>
      listenServer(
        middyServer(lambdaContext({ stage: 'native', function: 'middy', alias: 'live', payload: '', requestId: '' })),
      ),
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
    '2.0': [
      {
        name: 'dev',
        prefix: '',
        routes: [{ method: 'ANY', path: '/{proxy+}', payload: '2.0' as const, function: app.name }],
      },
    ],
    '1.0': [
      {
        name: 'dev',
        prefix: '',
        routes: [{ method: 'ANY', path: '/{proxy+}', payload: '1.0' as const, function: app.name }],
      },
    ],
  };

  describe.each(['2.0', '1.0'] as const)('payload %s', (payload) => {
    it.each(cases.filter((c) => !c.absentFrom?.includes(app.name)))('$name', async ({ path, options, aws }) => {
      const direct = await send(`http://127.0.0.1:${native.port}${path}`, options);
      const through = await send(`http://127.0.0.1:${gateways[payload]!.port}${path}`, options);
      expect(direct.status).toBeLessThan(500);
      const expected = aws ? aws(comparable(direct), payload, app.name) : comparable(direct);
      expect(comparable(through)).toEqual(expected);
      // The gateway's own headers, and a length that is the body's.
      expect(
        through.headers.some(([name]) => name === (payload === '2.0' ? 'apigw-requestid' : 'x-amzn-requestid')),
      ).toBe(true);
      const length = through.headers.find(([name]) => name === 'content-length')?.[1];
      if (through.status !== 204 && through.status !== 304) expect(length).toBe(String(through.body.length));
    });
  });
});

it('the binary cases carry real binary data', () => {
  expect(PNG.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(bytes.some((byte) => byte > 0x7f) && bytes.includes(0)).toBe(true);
});
