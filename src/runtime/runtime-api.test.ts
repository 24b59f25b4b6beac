// The Runtime API at the protocol level, over both carriers: plain HTTP as a custom runtime
// speaks it, and the framed pipe our Node bootstrap may use. Every rule must read the same.
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { until } from '../../test/helpers/wait.js';
import { createFrameReader, encodeFrame } from './bootstrap/frames.mjs';
import { MAX_RESPONSE_BYTES, RuntimeApi, type Invocation, type RuntimeApiListener } from './runtime-api.js';
import { RuntimeApiPipe } from './runtime-api-pipe.js';
import { RuntimeApiServer } from './runtime-api-server.js';

type Heard = [string, ...unknown[]];
interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}
/** One request over a carrier; `path` is below /2018-06-01/runtime. */
type Send = (method: string, path: string, body?: string, headers?: Record<string, string>) => Promise<Answer>;
interface Carrier {
  name: string;
  connect(api: RuntimeApi): Promise<Send>;
}

const closers: Array<() => unknown> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});
const scratch = mkdtempSync(join(tmpdir(), 'stagecraft-api-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const http: Carrier = {
  name: 'HTTP',
  async connect(api) {
    const server = await RuntimeApiServer.listen(api);
    closers.push(() => server.close());
    return async (method, path, body, headers = {}) => {
      const res = await fetch(`http://${server.address}/2018-06-01/runtime${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
      return { status: res.status, headers: Object.fromEntries(res.headers), text: await res.text() };
    };
  },
};

/** A connected pair of sockets stands in for the pipe a runtime inherits. */
const pipe: Carrier = {
  name: 'pipe',
  async connect(api) {
    const path = join(scratch, `api-${closers.length}-${Date.now()}.sock`);
    const accepted = new Promise<Socket>((resolve) => {
      const server = createServer(resolve).listen(path);
      closers.push(() => new Promise((done) => server.close(done)));
    });
    const client = createConnection(path);
    const hostSide = await accepted;
    const front = new RuntimeApiPipe(hostSide, api);
    closers.push(() => {
      client.destroy();
      front.close();
    });
    const waiting = new Map<number, (answer: Answer) => void>();
    client.on(
      'data',
      createFrameReader(({ header, body }) =>
        waiting.get(header.id)?.({ status: header.status, headers: header.headers, text: body }),
      ),
    );
    let lastId = 0;
    return (method, path, body = '', headers = {}) => {
      const id = ++lastId;
      client.write(encodeFrame({ id, method, path: `/2018-06-01/runtime${path}`, headers }, body));
      return new Promise((resolve) => waiting.set(id, resolve));
    };
  },
};

function listen(): { api: RuntimeApi; heard: Heard[] } {
  const heard: Heard[] = [];
  const listener: RuntimeApiListener = {
    next: () => heard.push(['next']),
    delivered: (invocation) => heard.push(['delivered', invocation.requestId]),
    response: (requestId, payload) => heard.push(['response', requestId, payload]),
    responseTooLarge: (requestId, bytes) => heard.push(['tooLarge', requestId, bytes]),
    error: (requestId, error) => heard.push(['error', requestId, error]),
    initError: (error) => heard.push(['initError', error]),
  };
  return { api: new RuntimeApi(listener), heard };
}

const invocation = (requestId: string): Invocation => ({
  requestId,
  payload: '{"hello":"world"}',
  deadlineMs: 1_700_000_000_000,
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn:live',
  traceId: 'Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0',
  clientContext: '{"custom":{}}',
});

it('HTTP listens on loopback on a free port', async () => {
  const server = await RuntimeApiServer.listen(listen().api);
  closers.push(() => server.close());
  expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
});

describe.each([http, pipe])('runtime API over $name', (carrier) => {
  async function serve() {
    const { api, heard } = listen();
    return { api, heard, send: await carrier.connect(api) };
  }

  it('parks next until an invocation arrives, then answers with the event and its headers', async () => {
    const { api, heard, send } = await serve();
    const next = send('GET', '/invocation/next');
    await until(() => heard.length > 0, 5000, 'the parked next');
    expect(heard).toEqual([['next']]);
    api.deliver(invocation('req-1'));
    const res = await next;
    expect(res.status).toBe(200);
    expect(res.text).toBe('{"hello":"world"}');
    expect(res.headers['content-type']).toBe('application/json');
    expect(
      Object.fromEntries(Object.entries(res.headers).filter(([name]) => name.startsWith('lambda-runtime-'))),
    ).toEqual({
      'lambda-runtime-aws-request-id': 'req-1',
      'lambda-runtime-deadline-ms': '1700000000000',
      'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:us-east-1:000000000000:function:fn:live',
      'lambda-runtime-trace-id': 'Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0',
      'lambda-runtime-client-context': '{"custom":{}}',
    });
    expect(heard).toEqual([['next'], ['delivered', 'req-1']]);
  });

  it('refuses a second parked next with 403', async () => {
    const { send, heard } = await serve();
    send('GET', '/invocation/next').catch(() => undefined); // answered never: the server closes under it
    await until(() => heard.length > 0, 5000, 'the first parked next');
    const second = await send('GET', '/invocation/next');
    expect(second.status).toBe(403);
    expect(JSON.parse(second.text)).toMatchObject({ errorType: 'InvalidStateTransition' });
  });

  it('queues an invocation until the runtime asks, and accepts one result per invocation', async () => {
    const { api, heard, send } = await serve();
    api.deliver(invocation('req-2'));
    expect(() => api.deliver(invocation('req-3'))).toThrow(/already has an invocation/);
    expect((await send('GET', '/invocation/next')).headers['lambda-runtime-aws-request-id']).toBe('req-2');
    const accepted = await send('POST', '/invocation/req-2/response', '"done"');
    expect(accepted.status).toBe(202);
    expect(JSON.parse(accepted.text)).toEqual({ status: 'OK' });
    const again = await send('POST', '/invocation/req-2/response', '"twice"');
    expect(again.status).toBe(400);
    expect(JSON.parse(again.text)).toEqual({ errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
    expect(heard.at(-1)).toEqual(['response', 'req-2', '"done"']);
  });

  it('passes error documents through, filling the type from the header when the body lacks it', async () => {
    const { api, heard, send } = await serve();
    api.deliver(invocation('req-4'));
    await send('GET', '/invocation/next');
    const body = JSON.stringify({ errorMessage: 'boom', stackTrace: ['at main (main.go:1)'] });
    const res = await send('POST', '/invocation/req-4/error', body, {
      'Lambda-Runtime-Function-Error-Type': 'Custom.Failure',
    });
    expect(res.status).toBe(202);
    expect(heard.at(-1)).toEqual([
      'error',
      'req-4',
      { errorType: 'Custom.Failure', errorMessage: 'boom', stackTrace: ['at main (main.go:1)'] },
    ]);
  });

  it('takes an init error only before init is over', async () => {
    const { api, heard, send } = await serve();
    const early = await send(
      'POST',
      '/init/error',
      JSON.stringify({ errorType: 'Runtime.ImportModuleError', errorMessage: 'x' }),
    );
    expect(early.status).toBe(202);
    expect(heard.at(-1)).toEqual(['initError', { errorType: 'Runtime.ImportModuleError', errorMessage: 'x' }]);
    api.deliver(invocation('req-5'));
    await send('GET', '/invocation/next');
    const late = await send('POST', '/init/error', '{}');
    expect(late.status).toBe(403);
  });

  it('refuses a response over the 6 MB limit with 413, and keeps serving', async () => {
    const { api, heard, send } = await serve();
    api.deliver(invocation('req-6'));
    await send('GET', '/invocation/next');
    const res = await send('POST', '/invocation/req-6/response', 'x'.repeat(MAX_RESPONSE_BYTES + 1));
    expect(res.status).toBe(413);
    expect(heard.at(-1)).toEqual(['tooLarge', 'req-6', MAX_RESPONSE_BYTES + 1]);
    api.deliver(invocation('req-7'));
    expect((await send('GET', '/invocation/next')).headers['lambda-runtime-aws-request-id']).toBe('req-7');
  });

  it('answers 404 for anything else', async () => {
    const { send } = await serve();
    expect((await send('POST', '/invocation/req-7/other')).status).toBe(404);
    expect((await send('POST', '/invocation/next')).status).toBe(404);
  });
});

describe('pipe: posts marked noReply', () => {
  it('are handled like any post but get no answer, so nothing wakes the runtime until its next event', async () => {
    const { api, heard } = listen();
    const path = join(scratch, `api-noreply-${Date.now()}.sock`);
    const accepted = new Promise<Socket>((resolve) => {
      const server = createServer(resolve).listen(path);
      closers.push(() => new Promise((done) => server.close(done)));
    });
    const client = createConnection(path);
    const front = new RuntimeApiPipe(await accepted, api);
    closers.push(() => {
      client.destroy();
      front.close();
    });
    const answers: number[] = [];
    client.on(
      'data',
      createFrameReader(({ header }) => answers.push(header.id)),
    );
    const frame = (id: number, method: string, path: string, body = '', noReply = false) =>
      encodeFrame(
        { id, method, path: `/2018-06-01/runtime${path}`, headers: {}, ...(noReply ? { noReply } : {}) },
        body,
      );
    api.deliver(invocation('req-8'));
    client.write(frame(1, 'GET', '/invocation/next'));
    await until(() => answers.length === 1, 5000, 'the answer to next');
    client.write(
      Buffer.concat([
        frame(2, 'POST', '/invocation/req-8/response', '"done"', true),
        frame(3, 'POST', '/invocation/req-8/response', '"again"', true),
      ]),
    );
    await until(() => heard.some(([what]) => what === 'response'), 5000, 'the response');
    // A next marked noReply is answered all the same: its event must not be lost. Frames are answered in
    // order, so seeing 4's answer proves 2 and 3 got none.
    client.write(frame(4, 'GET', '/invocation/next', '', true));
    api.deliver(invocation('req-9'));
    await until(() => answers.includes(4), 5000, 'the answer to the noReply next');
    expect(heard.filter(([what]) => what === 'response')).toEqual([['response', 'req-8', '"done"']]);
    expect(answers).toEqual([1, 4]);
  });
});

describe('pipe frames', () => {
  it('reassemble across arbitrary chunk boundaries, multi-byte text included', () => {
    const frames = [
      encodeFrame({ id: 1 }, 'héllo ✓'),
      encodeFrame({ id: 2 }, ''),
      encodeFrame({ id: 3 }, 'x'.repeat(70_000)),
    ];
    const stream = Buffer.concat(frames);
    for (const size of [1, 3, 7, 4096, stream.length]) {
      const seen: unknown[] = [];
      const read = createFrameReader(({ header, body, bytes }) => seen.push([header.id, body.length, bytes]));
      for (let at = 0; at < stream.length; at += size) read(stream.subarray(at, at + size));
      expect(seen, `chunks of ${size}`).toEqual([
        [1, 7, 10],
        [2, 0, 0],
        [3, 70_000, 70_000],
      ]);
    }
  });

  it('count an oversized body without keeping it', () => {
    const seen: unknown[] = [];
    const read = createFrameReader(({ header, body, bytes }) => seen.push([header.id, body, bytes]), { maxBody: 10 });
    const stream = Buffer.concat([encodeFrame({ id: 1 }, 'y'.repeat(100_000)), encodeFrame({ id: 2 }, 'ok')]);
    for (let at = 0; at < stream.length; at += 1000) read(stream.subarray(at, at + 1000));
    expect(seen).toEqual([
      [1, '', 100_000],
      [2, 'ok', 2],
    ]);
  });

  it('report a stream that is not frames', () => {
    const problems: string[] = [];
    const read = createFrameReader(() => undefined, { onProtocolError: (error) => problems.push(error.message) });
    read(Buffer.from([0, 0, 0, 5, 0x7b, 0x7b, 0x7b, 0x7b, 0x7b]));
    expect(problems).toEqual(['a Runtime API frame without a header']);
  });
});
