/**
 * The gateway's HTTP server: route, translate, invoke the function's `live` (or, on purpose,
 * `smoke`) alias, translate back — and answer as API Gateway does when any of that fails.
 *
 * The hot path stays lean: the route table is compiled only when `stages()` returns a new array,
 * ids come from a pooled random buffer, bodies are collected as Buffers without copies until the
 * last one, and nothing touches the disk.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequestIds } from './ids.js';
import { fromResultV1, toEventV1 } from './payload-v1.js';
import { fromResultV2, toEventV2 } from './payload-v2.js';
import { errorResponse, MAX_BODY_BYTES, type ApiFlavor, type GatewayError } from './responses.js';
import { compileRoutes, isCompiledFrom, matchRoute, type RouteMatch, type RouteTable } from './router.js';
import { oversize, type InvokeOutcome } from '../runtime/index.js';
import type { EventContext, Gateway, GatewayCall, GatewayOptions, GatewayRequest, GatewayStage, HttpResponse } from './types.js';

/** The header that reaches the `smoke` alias through the same gateway (DESIGN §4). */
export const ALIAS_HEADER = 'x-stagecraft-alias';

const HTTP_API_TIMEOUT_MS = 30_000;
const REST_API_TIMEOUT_MS = 29_000;

const EMPTY = Buffer.alloc(0);

/** A body over the limit, found while reading it. */
const TOO_LARGE = Symbol('too large');

function readBody(req: IncomingMessage): Promise<Buffer | typeof TOO_LARGE> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        resolve(TOO_LARGE);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 0 ? EMPTY : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

interface RequestFacts {
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  smoke: boolean;
}

/** What the gateway needs from the headers, in one pass over rawHeaders (cheaper than Node's lazy `req.headers`). */
function factsOf(raw: readonly string[]): RequestFacts {
  const facts: RequestFacts = { contentLength: -1, chunked: false, smoke: false };
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') facts.contentLength = Number(raw[i + 1]);
    else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') facts.chunked = true;
    else if (name.length === ALIAS_HEADER.length && name.toLowerCase() === ALIAS_HEADER) facts.smoke = raw[i + 1]!.trim() === 'smoke';
  }
  return facts;
}

/** `::ffff:127.0.0.1` → `127.0.0.1`, as API Gateway reports IPv4 clients. */
function sourceIpOf(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export function createGateway(options: GatewayOptions): Gateway {
  const ids = createRequestIds();
  const now = options.now ?? (() => new Date());
  const accountId = options.accountId ?? '000000000000';
  const apiId = options.apiId ?? 'stagecraft';
  const defaultDomainName = `${apiId}.execute-api.${options.region ?? 'us-east-1'}.amazonaws.com`;

  let compiledFrom: readonly GatewayStage[] | undefined;
  let table: RouteTable = { stages: [] };
  const routeTable = (): RouteTable => {
    const stages = options.stages();
    if (stages !== compiledFrom) {
      // A new array: compile what changed in it, if anything (a caller may wrap the same stages anew).
      if (!isCompiledFrom(table, stages)) table = compileRoutes(stages, table);
      compiledFrom = stages;
    }
    return table;
  };

  let inFlight = 0;
  let closing = false;
  let drained: (() => void) | undefined;

  const send = (res: ServerResponse, response: HttpResponse, ownHeaders: Array<[string, string]>): void => {
    const flat: string[] = [];
    for (const [name, value] of response.headers) flat.push(name, value);
    for (const [name, value] of ownHeaders) flat.push(name, value);
    flat.push('content-length', String(typeof response.body === 'string' ? Buffer.byteLength(response.body) : response.body.length));
    if (closing) flat.push('connection', 'close');
    // The reason phrase is given: a writeHead that threw on a bad header has already set the first one's.
    res.writeHead(response.statusCode, STATUS_CODES[response.statusCode] ?? '', flat);
    res.end(response.body);
  };

  const ownHeadersOf = (flavor: ApiFlavor, context: { requestId: string; extendedRequestId: string; traceId: string }): Array<[string, string]> =>
    flavor === 'http'
      ? [['apigw-requestid', context.requestId]]
      : [['x-amzn-RequestId', context.requestId], ['x-amz-apigw-id', context.extendedRequestId], ['X-Amzn-Trace-Id', context.traceId]];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    const match: RouteMatch | undefined = path.startsWith('/') ? matchRoute(routeTable(), method, path) : undefined;
    const time = now();

    if (!match) {
      send(res, errorResponse('notFound', 'http'), [['apigw-requestid', ids.short()]]);
      req.resume();
      return;
    }

    const flavor: ApiFlavor = match.route.def.payload === '2.0' ? 'http' : 'rest';
    const requestId = flavor === 'http' ? ids.short() : ids.uuid();
    const extendedRequestId = flavor === 'http' ? requestId : ids.short();
    const traceId = ids.traceId(time.getTime());
    const ownHeaders = ownHeadersOf(flavor, { requestId, extendedRequestId, traceId });
    const fail = (error: GatewayError, detail?: string): void => send(res, errorResponse(error, flavor, detail), ownHeaders);

    const facts = factsOf(req.rawHeaders);
    if (facts.contentLength > MAX_BODY_BYTES) {
      res.shouldKeepAlive = false;
      fail('tooLarge');
      req.resume();
      return;
    }
    // A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 §6.3).
    const body = facts.contentLength > 0 || facts.chunked ? await readBody(req) : EMPTY;
    if (body === TOO_LARGE) {
      res.shouldKeepAlive = false;
      fail('tooLarge');
      return;
    }

    const request: GatewayRequest = {
      method,
      path,
      query: q === -1 ? '' : url.slice(q + 1),
      rawHeaders: req.rawHeaders,
      body,
      sourceIp: sourceIpOf(req),
      protocol: `HTTP/${req.httpVersion}`,
      scheme: 'http',
      port: req.socket.localPort ?? 0,
    };
    const stage = match.stage;
    const context: EventContext = {
      routeMethod: match.route.method,
      resource: match.route.def.path,
      pathParameters: match.pathParameters,
      // An HTTP API serves the root of its own host from the `$default` stage; a REST API's stages are always named.
      stage: flavor === 'http' && match.prefix === '' ? '$default' : stage.name,
      stagePrefix: match.prefix,
      requestId,
      extendedRequestId,
      resourceId: match.route.resourceId,
      traceId,
      accountId,
      apiId,
      defaultDomainName,
      time,
    };
    const event = flavor === 'http' ? toEventV2(request, context) : toEventV1(request, context);
    const call: GatewayCall = {
      stage: stage.name,
      function: match.route.def.function,
      alias: facts.smoke ? 'smoke' : 'live',
      payload: JSON.stringify(event),
      requestId,
    };
    // Lambda refuses a synchronous event over 6 MB (RequestEntityTooLargeException): a body under the gateway's own 10 MB may still be.
    if (oversize(call.payload, 'sync') !== undefined) {
      fail('tooLarge');
      return;
    }

    const timeoutMs = options.integrationTimeoutMs ?? (flavor === 'http' ? HTTP_API_TIMEOUT_MS : REST_API_TIMEOUT_MS);
    let outcome: InvokeOutcome | 'timeout';
    try {
      outcome = await new Promise<InvokeOutcome | 'timeout'>((resolve, reject) => {
        const timer = setTimeout(resolve, timeoutMs, 'timeout');
        options.invoke(call).then((result) => {
          clearTimeout(timer);
          resolve(result);
        }, (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        });
      });
    } catch (error) {
      options.onError?.(error, call);
      fail('refused', 'The Lambda invocation was refused');
      return;
    }

    if (outcome === 'timeout') {
      fail('timeout', `No response from the function within ${timeoutMs} ms`);
    } else if (outcome.ok) {
      try {
        send(res, flavor === 'http' ? fromResultV2(outcome.payload) : fromResultV1(outcome.payload), ownHeaders);
      } catch (error) {
        // A header Node refuses to write (CR/LF, a bad name): nothing went out; a malformed result, as API Gateway says.
        if (res.headersSent) throw error;
        fail('malformed');
      }
    } else {
      // Lambda's own timeout is a function error like any other ("Task timed out after …"):
      // 500 / 502, not the 503 / 504 of the gateway's integration timeout (denoland/deno_registry2#87,
      // apex/up#395). A throttled call is one Lambda refused: 500 on both API types.
      if (outcome.cause === 'throttled') fail('refused', 'Rate Exceeded.');
      else fail('functionError', `The Lambda function returned the following error: ${outcome.error.errorMessage}`);
    }
  }

  function responseClosed(): void {
    inFlight--;
    if (closing) {
      server.closeIdleConnections();
      if (inFlight === 0) drained?.();
    }
  }

  const server = createServer((req, res) => {
    inFlight++;
    res.once('close', responseClosed);
    handle(req, res).catch((error: unknown) => {
      // A broken request (e.g. the client went away mid-body) still gets an answer if it can take one.
      if (!res.headersSent && !res.destroyed) send(res, errorResponse('functionError', 'http', String(error)), [['apigw-requestid', ids.short()]]);
    });
  });

  return {
    server,
    listen(port: number, host = '127.0.0.1'): Promise<number> {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close(): Promise<void> {
      closing = true;
      const stopped = new Promise<void>((resolve, reject) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close((error) => (error ? reject(error) : resolve()));
      });
      const finished = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => {
        drained = resolve;
      });
      server.closeIdleConnections();
      return Promise.all([stopped, finished]).then(() => undefined);
    },
  };
}
