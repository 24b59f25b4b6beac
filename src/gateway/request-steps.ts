/**
 * The steps of one gateway request, in order: read the body, build the event, invoke the
 * function's alias (whose routing picks the version), turn the outcome into a response.
 * `createGateway`'s handler strings them together and sends.
 */
import type { IncomingMessage } from 'node:http';
import { fromResultV1, toEventV1 } from './payload-v1.js';
import { fromResultV2, toEventV2 } from './payload-v2.js';
import { errorResponse, MAX_BODY_BYTES, type ApiFlavor, type GatewayError } from './responses.js';
import type { RouteMatch } from './router.js';
import type { InvokeOutcome } from '../runtime/index.js';
import type { EventContext, GatewayCall, GatewayOptions, GatewayRequest, HttpResponse } from './types.js';

/** The header that reaches the `smoke` alias through the same gateway (DESIGN §4). */
export const ALIAS_HEADER = 'x-stagecraft-alias';

export const EMPTY = Buffer.alloc(0);

/** A body over the limit, found while reading it. */
export const TOO_LARGE = Symbol('too large');

export function readBody(req: IncomingMessage): Promise<Buffer | typeof TOO_LARGE> {
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
    req.on('end', () =>
      resolve(chunks.length === 0 ? EMPTY : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)),
    );
    req.on('error', reject);
  });
}

export interface RequestFacts {
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  smoke: boolean;
}

/** What the gateway needs from the headers, in one pass over rawHeaders (cheaper than Node's lazy `req.headers`). */
export function factsOf(raw: readonly string[]): RequestFacts {
  const facts: RequestFacts = { contentLength: -1, chunked: false, smoke: false };
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') facts.contentLength = Number(raw[i + 1]);
    else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') facts.chunked = true;
    else if (name.length === ALIAS_HEADER.length && name.toLowerCase() === ALIAS_HEADER)
      facts.smoke = raw[i + 1]!.trim() === 'smoke';
  }
  return facts;
}

/** `::ffff:127.0.0.1` → `127.0.0.1`, as API Gateway reports IPv4 clients. */
export function sourceIpOf(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Step 1: the body, or an answer when it is over API Gateway's limit (the caller sends it). */
export async function readRequestBody(req: IncomingMessage, facts: RequestFacts): Promise<Buffer | 'tooLarge'> {
  if (facts.contentLength > MAX_BODY_BYTES) {
    req.resume();
    return 'tooLarge';
  }
  // A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 §6.3).
  const body = facts.contentLength > 0 || facts.chunked ? await readBody(req) : EMPTY;
  return body === TOO_LARGE ? 'tooLarge' : body;
}

/** Step 2: the event of the route's payload format, as JSON text. */
export function eventOf(flavor: ApiFlavor, request: GatewayRequest, context: EventContext): string {
  return JSON.stringify(flavor === 'http' ? toEventV2(request, context) : toEventV1(request, context));
}

/** The call of a matched route: the `live` alias (whose routing config picks the version), or `smoke` on purpose. */
export function callOf(match: RouteMatch, facts: RequestFacts, payload: string, requestId: string): GatewayCall {
  return {
    stage: match.stage.name,
    function: match.route.def.function,
    alias: facts.smoke ? 'smoke' : 'live',
    payload,
    requestId,
  };
}

/** Step 3: invokes within the integration timeout; a rejected invoke is reported and refused. */
export function invokeWithin(
  options: GatewayOptions,
  call: GatewayCall,
  timeoutMs: number,
): Promise<InvokeOutcome | 'timeout' | 'refused'> {
  // One promise per request, no async wrapper around it: this runs for every request.
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs, 'timeout');
    const refused = (error: unknown): void => {
      clearTimeout(timer);
      options.onError?.(error, call);
      resolve('refused');
    };
    let invoked: Promise<InvokeOutcome>;
    try {
      invoked = options.invoke(call);
    } catch (error) {
      refused(error);
      return;
    }
    invoked.then((result) => {
      clearTimeout(timer);
      resolve(result);
    }, refused);
  });
}

/** Step 4: the HTTP response of an outcome, as API Gateway gives it. */
export function resultOf(
  outcome: InvokeOutcome | 'timeout' | 'refused',
  flavor: ApiFlavor,
  timeoutMs: number,
): HttpResponse {
  const fail = (error: GatewayError, detail?: string): HttpResponse => errorResponse(error, flavor, detail);
  if (outcome === 'refused') return fail('refused', 'The Lambda invocation was refused');
  if (outcome === 'timeout') return fail('timeout', `No response from the function within ${timeoutMs} ms`);
  if (outcome.ok) return flavor === 'http' ? fromResultV2(outcome.payload) : fromResultV1(outcome.payload);
  // Lambda's own timeout is a function error like any other ("Task timed out after …"):
  // 500 / 502, not the 503 / 504 of the gateway's integration timeout (denoland/deno_registry2#87,
  // apex/up#395). A throttled call is one Lambda refused: 500 on both API types.
  if (outcome.cause === 'throttled') return fail('refused', 'Rate Exceeded.');
  return fail('functionError', `The Lambda function returned the following error: ${outcome.error.errorMessage}`);
}
