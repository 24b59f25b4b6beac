// The floor of bench/gateway: the least any server can do that answers each request through a
// handler in another process, one request at a time per process — what issue 3 mandates of
// `stagecraft up` (one child process per execution environment, one invocation at a time each).
// A plain node:http server builds the same small event as baseline.mjs, writes it as one
// length-prefixed frame to an idle child over a pipe (or queues it), and the child calls the very
// same bundled handler and writes its result back in one frame. Nothing else: no Runtime API, no
// logs, no request ids, no timeouts, no memory limit, no API Gateway event. Whatever this serves
// is more than any design with a process boundary per request can serve on this machine.
// Usage: node floor.mjs <handler file (.mjs)> <export> <port> [children, default: available cores]
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [file, name, port, count] = process.argv.slice(2);

if (process.env.FLOOR_CHILD === '1') {
  // The child: read frames from fd 3, answer each with the handler's result.
  const net = await import('node:net');
  const handler = (await import(pathToFileURL(file).href))[name];
  const pipe = new net.Socket({ fd: 3, readable: true, writable: true });
  let pending = Buffer.alloc(0);
  pipe.on('data', async (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
      const size = pending.readUInt32BE(0);
      const event = JSON.parse(pending.toString('utf8', 4, 4 + size));
      pending = pending.subarray(4 + size);
      const text = JSON.stringify(await handler(event, {}));
      const frame = Buffer.allocUnsafe(4 + Buffer.byteLength(text));
      frame.writeUInt32BE(frame.length - 4, 0);
      frame.write(text, 4);
      pipe.write(frame);
    }
  });
} else {
  const children = [];
  const idle = [];
  const waiting = [];
  const run = (child, event, answer) => {
    child.answer = answer;
    const frame = Buffer.allocUnsafe(4 + Buffer.byteLength(event));
    frame.writeUInt32BE(frame.length - 4, 0);
    frame.write(event, 4);
    child.pipe.write(frame);
  };
  for (let i = 0; i < Number(count ?? availableParallelism()); i++) {
    const process_ = spawn(process.execPath, [fileURLToPath(import.meta.url), file, name], {
      stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
      env: { ...process.env, FLOOR_CHILD: '1' },
    });
    const child = { process: process_, pipe: process_.stdio[3], pending: Buffer.alloc(0), answer: undefined };
    child.pipe.on('data', (chunk) => {
      child.pending = child.pending.length === 0 ? chunk : Buffer.concat([child.pending, chunk]);
      while (child.pending.length >= 4 && child.pending.length >= 4 + child.pending.readUInt32BE(0)) {
        const size = child.pending.readUInt32BE(0);
        const text = child.pending.toString('utf8', 4, 4 + size);
        child.pending = child.pending.subarray(4 + size);
        const answer = child.answer;
        const next = waiting.shift();
        if (next) run(child, next[0], next[1]);
        else idle.push(child);
        answer(text);
      }
    });
    children.push(child);
    idle.push(child);
  }
  process.on('SIGTERM', () => {
    for (const child of children) child.process.kill();
    process.exit(0);
  });

  createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const [rawPath, rawQueryString = ''] = (request.url ?? '/').split('?');
      const event = JSON.stringify({
        version: '2.0',
        routeKey: `${request.method} ${rawPath}`,
        rawPath,
        rawQueryString,
        headers: request.headers,
        requestContext: { http: { method: request.method, path: rawPath } },
        body: Buffer.concat(chunks).toString(),
        isBase64Encoded: false,
      });
      const answer = (text) => {
        const result = JSON.parse(text);
        response.writeHead(result.statusCode ?? 200, result.headers ?? {});
        response.end(result.body ?? '');
      };
      const child = idle.pop();
      if (child) run(child, event, answer);
      else waiting.push([event, answer]);
    });
  }).listen(Number(port), '127.0.0.1');
}
