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
import { callOf, eventOf, factsOf, invokeWithin, readRequestBody, resultOf, sourceIpOf } from './request-steps.js';
import { errorResponse, type ApiFlavor } from './responses.js';
import { compileRoutes, isCompiledFrom, matchRoute, type RouteMatch, type RouteTable } from './router.js';
import { oversize } from '../runtime/index.js';
import type { EventContext, Gateway, GatewayOptions, GatewayRequest, GatewayStage, HttpResponse } from './types.js';

export { ALIAS_HEADER } from './request-steps.js';

const HTTP_API_TIMEOUT_MS = 30_000;
const REST_API_TIMEOUT_MS = 29_000;

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
    flat.push(
      'content-length',
      String(typeof response.body === 'string' ? Buffer.byteLength(response.body) : response.body.length),
    );
    if (closing) flat.push('connection', 'close');
    // The reason phrase is given: a writeHead that threw on a bad header has already set the first one's.
    res.writeHead(response.statusCode, STATUS_CODES[response.statusCode] ?? '', flat);
    res.end(response.body);
  };

  const ownHeadersOf = (
    flavor: ApiFlavor,
    context: { requestId: string; extendedRequestId: string; traceId: string },
  ): Array<[string, string]> =>
    flavor === 'http'
      ? [['apigw-requestid', context.requestId]]
      : [
          ['x-amzn-RequestId', context.requestId],
          ['x-amz-apigw-id', context.extendedRequestId],
          ['X-Amzn-Trace-Id', context.traceId],
        ];

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

    const facts = factsOf(req.rawHeaders);
    const body = await readRequestBody(req, facts);
    if (body === 'tooLarge') {
      res.shouldKeepAlive = false;
      send(res, errorResponse('tooLarge', flavor), ownHeaders);
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
    const context: EventContext = {
      routeMethod: match.route.method,
      resource: match.route.def.path,
      pathParameters: match.pathParameters,
      // An HTTP API serves the root of its own host from the `$default` stage; a REST API's stages are always named.
      stage: flavor === 'http' && match.prefix === '' ? '$default' : match.stage.name,
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
    const call = callOf(match, facts, eventOf(flavor, request, context), requestId);
    // Lambda refuses a synchronous event over 6 MB (RequestEntityTooLargeException): a body under the gateway's own 10 MB may still be.
    if (oversize(call.payload, 'sync') !== undefined) {
      send(res, errorResponse('tooLarge', flavor), ownHeaders);
      return;
    }
    const timeoutMs = options.integrationTimeoutMs ?? (flavor === 'http' ? HTTP_API_TIMEOUT_MS : REST_API_TIMEOUT_MS);
    const outcome = await invokeWithin(options, call, timeoutMs);
    try {
      send(res, resultOf(outcome, flavor, timeoutMs), ownHeaders);
    } catch (error) {
      // A header Node refuses to write (CR/LF, a bad name): nothing went out; a malformed result, as API Gateway says.
      if (res.headersSent) throw error;
      send(res, errorResponse('malformed', flavor), ownHeaders);
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
      if (!res.headersSent && !res.destroyed)
        send(res, errorResponse('functionError', 'http', String(error)), [['apigw-requestid', ids.short()]]);
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
      const finished =
        inFlight === 0
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              drained = resolve;
            });
      server.closeIdleConnections();
      return Promise.all([stopped, finished]).then(() => undefined);
    },
  };
}
