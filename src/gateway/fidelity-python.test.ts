// Fidelity for Python: the fidelity cases (test/fixtures/gateway/cases.ts) against a plain Python
// handler that is the middy handler's twin, run by the real Python runtime behind the gateway.
// Its answers must be what the middy handler answers natively, adjusted as AWS adjusts them —
// the same expectations the Node apps meet in fidelity.test.ts.
import type { Context } from 'aws-lambda';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cases, comparable } from '../../test/fixtures/gateway/cases.js';
import { middyServer } from '../../test/fixtures/gateway/apps/middy-handler.js';
import { send } from '../../test/fixtures/gateway/support.js';
import { RuntimeHost, type HostedFunction } from '../runtime/index.js';
import { createGateway, type Gateway } from './index.js';

const CODE = fileURLToPath(new URL('../../test/fixtures/apps/python/api', import.meta.url));

const fn: HostedFunction = {
  functionName: 'pyfaults-api-dev',
  version: '1',
  invokedArn: 'arn:aws:lambda:us-east-1:000000000000:function:pyfaults-api-dev:live',
  codeDir: CODE,
  handler: 'app.handler',
  runtime: 'python3.12',
  memoryMb: 128,
  timeoutSec: 10,
  environment: {},
  region: 'us-east-1',
  concurrency: 2,
};

const context = {
  functionName: 'middy',
  awsRequestId: 'native',
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

describe('python: the gateway answers as for the Node apps', () => {
  const host = new RuntimeHost({ transport: 'http' });
  const gateways: Partial<Record<'2.0' | '1.0', { gateway: Gateway; port: number }>> = {};
  const native = middyServer(context);
  let nativePort = 0;

  beforeAll(async () => {
    await new Promise<void>((resolve) => native.listen(0, '127.0.0.1', resolve));
    nativePort = (native.address() as AddressInfo).port;
    for (const payload of ['2.0', '1.0'] as const) {
      const gateway = createGateway({
        stages: () => [
          { name: 'dev', prefix: '', routes: [{ method: 'ANY', path: '/{proxy+}', payload, function: 'api' }] },
        ],
        invoke: (call) => host.invoke(fn, call.payload),
      });
      gateways[payload] = { gateway, port: await gateway.listen(0) };
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all(Object.values(gateways).map((entry) => entry.gateway.close()));
    await new Promise<void>((resolve) => native.close(() => resolve()));
    await host.drain();
  });

  describe.each(['2.0', '1.0'] as const)('payload %s', (payload) => {
    it.each(cases.filter((c) => !c.absentFrom?.includes('middy')))(
      '$name',
      async ({ path, options, aws }) => {
        const direct = await send(`http://127.0.0.1:${nativePort}${path}`, options);
        const through = await send(`http://127.0.0.1:${gateways[payload]!.port}${path}`, options);
        expect(direct.status).toBeLessThan(500);
        const expected = aws ? aws(comparable(direct), payload, 'python') : comparable(direct);
        expect(comparable(through)).toEqual(expected);
        expect(
          through.headers.some(([name]) => name === (payload === '2.0' ? 'apigw-requestid' : 'x-amzn-requestid')),
        ).toBe(true);
      },
      30_000,
    );
  });

  it('every answer came from the Python runtime, its environments kept warm', () => {
    const stats = host.stats()[0];
    expect(stats?.coldStarts).toBeGreaterThanOrEqual(1);
    expect(stats?.coldStarts).toBeLessThanOrEqual(2);
  });
});
