/**
 * A small client for the Lambda Runtime API, over one of two carriers with the same exchanges:
 * - HTTP on `AWS_LAMBDA_RUNTIME_API`, as every runtime speaks it inside Lambda;
 * - Stagecraft's pipe (frames.mjs) on an inherited file descriptor, when the execution
 *   environment asks for it: the same requests and answers, without a TCP connection per request.
 * https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
 *
 * Either way, nothing of the client keeps the event loop alive between requests: HTTP uses its
 * own connection per request (`agent: false`), closed when the answer is read, and the pipe is
 * referenced only while an answer is awaited. So "the event loop is empty" means what it means on
 * AWS and `beforeExit` fires when the handler's own work is done.
 *
 * On the pipe a post (response, error, init error) is not waited for: it is marked `noReply`, so
 * Stagecraft handles it but writes no answer, and its frame leaves together with the `next` that
 * follows it, in one write. The Runtime API still sees the same requests in the same order — one
 * ordered stream carries both — and the bootstrap never acts on a post's answer; what it saves is
 * a round trip and a wake-up of each process per invocation. Every post of the bootstrap is
 * followed by a `next` or, before it exits on purpose, by `flush` (node-bootstrap.mjs,
 * invoke-context.mjs): no timer per invocation stands guard. Over HTTP each request has its own
 * connection, so there every answer is awaited.
 *
 * `next` and every post carry `Stagecraft-Output-Bytes`, the bytes written to stdout and stderr so
 * far, so the host knows when it has read all the output written before each (runtime-api.ts).
 */
import http from 'node:http';
import net from 'node:net';
import { createFrameReader, encodeFrame } from './frames.mjs';

const PREFIX = '/2018-06-01/runtime';

/**
 * @typedef {{ status: number, headers: Record<string, string | string[] | undefined>, body: string }} Answer
 * @typedef {(method: string, path: string, body?: string, headers?: Record<string, string | number>) => Promise<Answer>} Send
 * @typedef {(method: string, path: string, body?: string, headers?: Record<string, string | number>) => Promise<unknown>} Post
 */

/** @param {string} endpoint `host:port` from `AWS_LAMBDA_RUNTIME_API` */
export function createRuntimeClient(endpoint) {
  const colon = endpoint.lastIndexOf(':');
  const hostname = endpoint.slice(0, colon);
  const port = Number(endpoint.slice(colon + 1));

  /** @type {Send} */
  function send(method, path, body, headers = {}) {
    return new Promise((resolve, reject) => {
      const req = http.request({ hostname, port, method, path: PREFIX + path, agent: false, headers }, (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
      });
      req.on('error', reject);
      req.end(body);
    });
  }
  return runtimeApiCalls(send, send, () => Promise.resolve());
}

/**
 * @param {number} fd the pipe Stagecraft passed (see runtime-api-pipe.ts)
 * @param {(error: Error) => void} onClosed called once if the pipe ends: Stagecraft is gone
 */
export function createPipeRuntimeClient(fd, onClosed) {
  const socket = new net.Socket({ fd, readable: true, writable: true });
  /** @type {Map<number, { resolve: (answer: Answer) => void, reject: (error: Error) => void }>} */
  const waiting = new Map();
  let lastId = 0;
  /** @type {Error | undefined} */
  let closed;
  /** Posted frames not written yet: they leave with the `next` that follows (see the file comment). */
  /** @type {Buffer[]} */
  let outbox = [];

  socket.unref();
  const settle = (id) => {
    const entry = waiting.get(id);
    waiting.delete(id);
    if (waiting.size === 0) socket.unref();
    return entry;
  };
  const end = (error) => {
    if (closed !== undefined) return;
    closed = error;
    for (const entry of waiting.values()) entry.reject(error);
    waiting.clear();
    socket.destroy();
    onClosed(error);
  };
  socket.on(
    'data',
    createFrameReader(
      ({ header, body }) => settle(header.id)?.resolve({ status: header.status, headers: header.headers, body }),
      {
        onProtocolError: end,
      },
    ),
  );
  socket.on('error', end);
  socket.on('close', () => end(new Error('The Runtime API pipe has closed.')));

  /** Writes everything queued in one write; `done` is called once it is in the pipe. */
  const writeOut = (done) => {
    if (outbox.length === 0 || closed !== undefined) {
      done?.();
      return;
    }
    const frames = outbox;
    outbox = [];
    socket.write(frames.length === 1 ? frames[0] : Buffer.concat(frames), done);
  };
  /** Resolves once everything queued is in the pipe: before the runtime exits on purpose. */
  const flush = () => new Promise((resolve) => writeOut(() => resolve(undefined)));
  /** Queues a request; its answer will go to `entry` (a post without one gets no answer). */
  const enqueue = (method, path, body, headers, entry) => {
    const id = ++lastId;
    if (entry === undefined) {
      outbox.push(encodeFrame({ id, method, path: PREFIX + path, headers, noReply: true }, body));
      return;
    }
    waiting.set(id, entry);
    socket.ref();
    outbox.push(encodeFrame({ id, method, path: PREFIX + path, headers }, body));
  };

  /** @type {Send} */
  function send(method, path, body = '', headers = {}) {
    if (closed !== undefined) return Promise.reject(closed);
    return new Promise((resolve, reject) => {
      enqueue(method, path, body, headers, { resolve, reject });
      writeOut();
    });
  }
  /** @type {Post} */
  function post(method, path, body = '', headers = {}) {
    if (closed !== undefined) return Promise.reject(closed);
    // No answer comes back; a closed pipe is reported through onClosed. It leaves with the `next`
    // or the `flush` that follows it (see the file comment).
    enqueue(method, path, body, headers, undefined);
    return Promise.resolve();
  }
  /**
   * A spare's first frame, unasked: the variables of the function it now runs (spare-runtime.ts).
   * Requests count from 1, so id 0 is never an answer's.
   * @returns {Promise<Answer>}
   */
  const assignment = () =>
    new Promise((resolve, reject) => {
      if (closed !== undefined) return reject(closed);
      waiting.set(0, { resolve, reject });
      socket.ref();
    });
  return { ...runtimeApiCalls(send, post, flush), assignment };
}

/**
 * @param {Send} send
 * @param {Post} post
 * @param {() => Promise<unknown>} flush
 */
function runtimeApiCalls(send, post, flush) {
  const written = countOutput();
  // How much output came before the result, so the host files all of it under this invocation
  // (it may read the result before the last of a large output) and, once it has read that much,
  // settles the invocation at once instead of a turn of its event loop later.
  const outputBytes = () => `${written.stdout},${written.stderr}`;
  const json = (text) => ({
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Stagecraft-Output-Bytes': outputBytes(),
  });
  // A header value must be printable ASCII; an error type is user data and may not be.
  const errorTypeHeader = (errorResponse) => String(errorResponse.errorType).replace(/[^\x20-\x7e]/g, '?');

  return {
    /** Resolves once every post so far is on its way: before the runtime exits on purpose. */
    flush,
    /** Waits for the next event. */
    async next() {
      // The output before asking: what the host shows before the next invocation's START.
      const res = await send('GET', '/invocation/next', '', { 'Stagecraft-Output-Bytes': outputBytes() });
      if (res.status !== 200) throw new Error(`Runtime API next answered ${res.status}: ${res.body}`);
      return res;
    },
    /** @param {string} requestId @param {string} body JSON text */
    postResponse(requestId, body) {
      return post('POST', `/invocation/${encodeURIComponent(requestId)}/response`, body, json(body));
    },
    /** @param {string} requestId @param {{errorType: string}} errorResponse */
    postError(requestId, errorResponse) {
      const body = JSON.stringify(errorResponse);
      return post('POST', `/invocation/${encodeURIComponent(requestId)}/error`, body, {
        ...json(body),
        'Lambda-Runtime-Function-Error-Type': errorTypeHeader(errorResponse),
      });
    },
    /** @param {{errorType: string}} errorResponse */
    postInitError(errorResponse) {
      const body = JSON.stringify(errorResponse);
      return post('POST', '/init/error', body, {
        ...json(body),
        'Lambda-Runtime-Function-Error-Type': errorTypeHeader(errorResponse),
      });
    },
  };
}

/** Counts the bytes written through process.stdout and process.stderr since the runtime started. */
function countOutput() {
  const counts = { stdout: 0, stderr: 0 };
  for (const name of /** @type {const} */ (['stdout', 'stderr'])) {
    const stream = process[name];
    const write = stream.write;
    stream.write = /** @type {typeof write} */ (
      function (chunk, encoding) {
        counts[name] +=
          typeof chunk === 'string'
            ? Buffer.byteLength(chunk, typeof encoding === 'string' ? encoding : 'utf8')
            : chunk.length;
        return write.apply(stream, /** @type {any} */ (arguments));
      }
    );
  }
  return counts;
}
