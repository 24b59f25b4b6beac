/**
 * The Lambda Runtime API (version 2018-06-01) for one execution environment, served on loopback.
 * A runtime — our Node bootstrap, or any `provided*` bootstrap written in any language — polls
 * `next`, runs the event and posts a response or an error, exactly as inside Lambda.
 * https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
 *
 * One environment runs one invocation at a time, so the server holds at most one parked `next`
 * request, one queued invocation and one invocation in flight.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StagecraftError } from '../errors.js';
import type { LambdaError } from './types.js';

const PREFIX = '/2018-06-01/runtime';

/**
 * Lambda's limit for a synchronous response payload. The odd number is the one Lambda's own
 * error message names ("… maximum allowed payload size (6291556 bytes).").
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
export const MAX_RESPONSE_BYTES = 6_291_556;

/** What the runtime receives from `GET /invocation/next`. */
export interface Invocation {
  requestId: string;
  /** The event, as JSON text. */
  payload: string;
  /** Epoch milliseconds, sent as `Lambda-Runtime-Deadline-Ms`. */
  deadlineMs: number;
  invokedFunctionArn: string;
  traceId: string;
  clientContext?: string;
  cognitoIdentity?: string;
}

/** What the server tells its environment. Each call happens once per runtime request. */
export interface RuntimeApiListener {
  /** The runtime asked for work; the first time, this ends its init phase. */
  next(): void;
  /** An invocation left the queue: the runtime now holds it. */
  delivered(invocation: Invocation): void;
  response(requestId: string, payload: string): void;
  responseTooLarge(requestId: string, bytes: number): void;
  error(requestId: string, error: LambdaError): void;
  initError(error: LambdaError): void;
}

export class RuntimeApiServer {
  private parkedNext: ServerResponse | undefined;
  private queued: Invocation | undefined;
  private inFlight: string | undefined;
  private initDone = false;

  private constructor(
    private readonly server: Server,
    private readonly listener: RuntimeApiListener,
  ) {}

  /** Listens on 127.0.0.1 on a free port. */
  static async listen(listener: RuntimeApiListener): Promise<RuntimeApiServer> {
    const server = createServer();
    const api = new RuntimeApiServer(server, listener);
    server.on('request', (req, res) => api.route(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return api;
  }

  /** `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`. */
  get address(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `${address}:${port}`;
  }

  /** Hands an invocation to the runtime now if it is waiting in `next`, else at its next `next`. */
  deliver(invocation: Invocation): void {
    if (this.queued !== undefined || this.inFlight !== undefined) {
      throw new StagecraftError('INVOKE_FAILED', 'This execution environment already has an invocation in progress.');
    }
    this.queued = invocation;
    this.flush();
  }

  /** Forgets the current invocation (timed out, or its runtime died): late posts for it get 400. */
  abandon(): void {
    this.queued = undefined;
    this.inFlight = undefined;
  }

  async close(): Promise<void> {
    this.parkedNext?.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private flush(): void {
    const res = this.parkedNext;
    const invocation = this.queued;
    if (res === undefined || invocation === undefined) return;
    this.parkedNext = undefined;
    this.queued = undefined;
    this.inFlight = invocation.requestId;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': invocation.requestId,
      'Lambda-Runtime-Deadline-Ms': String(invocation.deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn': invocation.invokedFunctionArn,
      'Lambda-Runtime-Trace-Id': invocation.traceId,
    };
    if (invocation.clientContext !== undefined) headers['Lambda-Runtime-Client-Context'] = invocation.clientContext;
    if (invocation.cognitoIdentity !== undefined) headers['Lambda-Runtime-Cognito-Identity'] = invocation.cognitoIdentity;
    res.writeHead(200, headers).end(invocation.payload);
    this.listener.delivered(invocation);
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method === 'GET' && path === `${PREFIX}/invocation/next`) return this.onNext(res);
    if (req.method === 'POST' && path === `${PREFIX}/init/error`) {
      void this.onInitError(req, res);
      return;
    }
    const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    if (req.method === 'POST' && match !== null) {
      const requestId = decodeURIComponent(match[1] ?? '');
      void (match[2] === 'response' ? this.onResponse(requestId, req, res) : this.onError(requestId, req, res));
      return;
    }
    req.resume();
    reply(res, 404, { errorType: 'NotFound', errorMessage: `No route for ${req.method} ${path}` });
  }

  private onNext(res: ServerResponse): void {
    if (this.parkedNext !== undefined) {
      reply(res, 403, { errorType: 'InvalidStateTransition', errorMessage: 'Another next request is already waiting.' });
      return;
    }
    this.initDone = true;
    this.parkedNext = res;
    // The runtime may die while parked: forget its socket so we never answer a dead request.
    res.on('close', () => {
      if (this.parkedNext === res) this.parkedNext = undefined;
    });
    this.listener.next();
    this.flush();
  }

  private async onResponse(requestId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (!this.claim(requestId, res)) return;
    if (body.bytes > MAX_RESPONSE_BYTES) {
      reply(res, 413, {
        errorType: 'RequestEntityTooLarge',
        errorMessage: `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
      });
      this.listener.responseTooLarge(requestId, body.bytes);
      return;
    }
    reply(res, 202, { status: 'OK' });
    this.listener.response(requestId, body.text);
  }

  private async onError(requestId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (!this.claim(requestId, res)) return;
    reply(res, 202, { status: 'OK' });
    this.listener.error(requestId, parseError(body.text, req.headers['lambda-runtime-function-error-type']));
  }

  private async onInitError(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (this.initDone) {
      reply(res, 403, { errorType: 'InvalidStateTransition', errorMessage: 'Init has already completed.' });
      return;
    }
    reply(res, 202, { status: 'OK' });
    this.listener.initError(parseError(body.text, req.headers['lambda-runtime-function-error-type']));
  }

  /** Accepts a result only for the invocation in flight, once. */
  private claim(requestId: string, res: ServerResponse): boolean {
    if (requestId !== this.inFlight) {
      reply(res, 400, { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
      return false;
    }
    this.inFlight = undefined;
    return true;
  }
}

function reply(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

/** Reads the whole body but keeps only what fits the payload limit (the rest is counted). */
async function readBody(req: IncomingMessage): Promise<{ text: string; bytes: number }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if (bytes <= MAX_RESPONSE_BYTES) chunks.push(chunk);
    bytes += chunk.length;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), bytes };
}

/**
 * Lambda passes a runtime's error document through to the caller; we keep it as sent and only
 * fill what a sloppy runtime left out, from the `Lambda-Runtime-Function-Error-Type` header.
 */
function parseError(text: string, typeHeader: string | string[] | undefined): LambdaError {
  const headerType = typeof typeHeader === 'string' && typeHeader !== '' ? typeHeader : undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const doc = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const error: LambdaError = {
    errorType: typeof doc['errorType'] === 'string' ? doc['errorType'] : (headerType ?? 'Unhandled'),
    errorMessage: typeof doc['errorMessage'] === 'string' ? doc['errorMessage'] : text,
  };
  if (isStringArray(doc['trace'])) error.trace = doc['trace'];
  if (isStringArray(doc['stackTrace'])) error.stackTrace = doc['stackTrace'];
  return error;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
