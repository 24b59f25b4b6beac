/**
 * The Runtime API over HTTP on loopback: what `AWS_LAMBDA_RUNTIME_API` points at, and the only
 * carrier `provided*` bootstraps (curl, Go, Rust …) ever use. The rules live in runtime-api.ts.
 * https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_RESPONSE_BYTES, type ApiReply, type RuntimeApi } from './runtime-api.js';

export class RuntimeApiServer {
  private constructor(
    private readonly server: Server,
    private readonly api: RuntimeApi,
  ) {}

  /** Listens on 127.0.0.1 on a free port. */
  static async listen(api: RuntimeApi): Promise<RuntimeApiServer> {
    const server = createServer();
    const front = new RuntimeApiServer(server, api);
    server.on('request', (req, res) => void front.route(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return front;
  }

  /** `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`. */
  get address(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `${address}:${port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = req.method === 'GET' ? { text: '', bytes: 0 } : await readBody(req);
    if (req.method === 'GET') req.resume();
    let answered = false;
    const reply = ({ status, headers, body: text }: ApiReply): void => {
      if (answered || res.destroyed) return;
      answered = true;
      res.writeHead(status, headers).end(text);
    };
    const forget = this.api.handle(
      { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: body.text, bytes: body.bytes },
      reply,
    );
    // The runtime may die while its `next` is parked: forget the request so it is never answered.
    res.on('close', () => {
      if (!answered) forget();
    });
  }
}

/** Reads the whole body but keeps only what fits the payload limit (the rest is counted). */
async function readBody(req: IncomingMessage): Promise<{ text: string; bytes: number }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if (bytes <= MAX_RESPONSE_BYTES) chunks.push(chunk);
    bytes += chunk.length;
  }
  return { text: bytes > MAX_RESPONSE_BYTES ? '' : Buffer.concat(chunks).toString('utf8'), bytes };
}
