/**
 * The gateway answers every kind of handler failure as AWS does, replaces the broken
 * execution environment, and keeps serving everything else meanwhile.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';
import { startUp, type RunningUp } from './helpers/up.js';

describe('up: faults', () => {
  const app = copyApp('faults');
  let up: RunningUp;
  let url = '';
  beforeAll(async () => {
    for (const args of [['build'], ['deploy', 'dev']]) {
      const result = await runCli([...args, '--dir', app.dir]);
      expect(result.code, result.stderr).toBe(0);
    }
    up = await startUp(app.dir, { ports: 3 });
    url = up.urls['dev'] ?? '';
  }, 120_000);
  afterAll(async () => {
    expect(await up?.stop()).toBe(0);
    app.remove();
  });

  const get = async (path: string) => {
    const response = await fetch(`${url}${path}`);
    return { status: response.status, body: await response.text(), headers: response.headers };
  };
  /** One request on its own connection, so that a flood really is concurrent. */
  const getAlone = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      request(`${url}${path}`, { agent: false }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      })
        .on('error', reject)
        .end();
    });

  /** Fires steady traffic at /ok while `work` runs; every one of those requests must succeed. */
  async function whileServing<T>(work: () => Promise<T>): Promise<T> {
    let running = true;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (running) statuses.push((await get('/ok')).status);
    })();
    try {
      return await work();
    } finally {
      running = false;
      await traffic;
      expect(statuses.length).toBeGreaterThan(0);
      expect(statuses.every((status) => status === 200)).toBe(true);
    }
  }

  const CASES: [string, string, number, string][] = [
    ['a handler that throws', '/boom', 500, '{"message":"Internal Server Error"}'],
    ['a handler that calls process.exit', '/exit', 500, '{"message":"Internal Server Error"}'],
    ['an unhandled rejection', '/reject', 500, '{"message":"Internal Server Error"}'],
    ['a failure at init', '/initfail', 500, '{"message":"Internal Server Error"}'],
    ['a handler that exhausts its memory', '/oom', 500, '{"message":"Internal Server Error"}'],
  ];
  for (const [what, path, status, body] of CASES) {
    it(`${what}: ${status} ${body}, and up keeps serving`, async () => {
      const answer = await whileServing(() => get(path));
      expect(answer.status).toBe(status);
      expect(answer.body).toBe(body);
      expect(answer.headers.get('apigw-requestid')).toBeTruthy();
      // the broken environment was replaced: the route works again for a healthy function
      expect((await get('/ok')).status).toBe(200);
    });
  }

  it('a handler past its timeout, or looping forever, is killed and answered as AWS does', async () => {
    // The function timing out is a function error to API Gateway (Lambda's Invoke itself
    // succeeded), so HTTP API answers 500; 503 is only for its own 30 s integration timeout.
    for (const path of ['/slow', '/loop']) {
      const started = Date.now();
      const answer = await whileServing(() => get(path));
      expect(answer.status).toBe(500);
      expect(answer.body).toBe('{"message":"Internal Server Error"}');
      expect(Date.now() - started).toBeLessThan(5_000);
    }
  });

  it('REST payload 1.0 routes answer 502 for a failing function, as API Gateway REST does', async () => {
    expect((await get('/v1/ok')).status).toBe(200);
    const answer = await get('/v1/boom');
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body)).toEqual({ message: 'Internal server error' });
  });

  it('no route: 404 {"message":"Not Found"}', async () => {
    const answer = await get('/nowhere');
    expect(answer.status).toBe(404);
    expect(answer.body).toBe('{"message":"Not Found"}');
  });

  it('past the concurrency limit requests wait in a bounded queue, then are throttled; API Gateway answers a throttle with 500', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => getAlone('/nap?ms=400')));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    // concurrency 2 + a queue of 100: of 130 requests at once, 102 are served and 28 refused.
    // Lambda refuses them with 429 TooManyRequestsException; API Gateway turns a refused
    // invocation into 500 (https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html).
    const flood = await Promise.all(Array.from({ length: 130 }, () => getAlone('/nap?ms=200')));
    const statuses = flood.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(102);
    expect(statuses.filter((status) => status === 500)).toHaveLength(28);
    expect(flood.find((answer) => answer.status === 500)?.body).toBe('{"message":"Internal Server Error"}');
    const status = (await (await fetch(`${up.dashboard}/api/status`)).json()) as {
      functions: { instance: string; throttles: number; concurrency: number }[];
    };
    expect(status.functions.find((fn) => fn.instance === 'faults-nap-dev')).toMatchObject({
      throttles: 28,
      concurrency: 2,
    });
  }, 60_000);

  it('a provided runtime whose bootstrap is a shell script using curl serves requests', async () => {
    for (let i = 0; i < 3; i++) {
      const answer = await get('/shell');
      expect(answer.status).toBe(200);
      expect(answer.body).toMatch(/^hello from bash, handler function\.handler, \d+ bytes of event$/);
    }
  });
});
