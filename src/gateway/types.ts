/**
 * The shapes the gateway speaks in: the routes it serves, the call it makes to the runtime, the
 * HTTP request it translates and the HTTP response it writes. Kept free of behaviour.
 */
import type { Server } from 'node:http';
import type { InvokeOutcome } from '../runtime/index.js';

/** One `http` event of a function, as the manifest declares it. */
export interface RouteDef {
  /** `GET`, `POST`, … or `ANY`. */
  method: string;
  /** `/orders/{id}`, `/files/{proxy+}`: API Gateway route paths. */
  path: string;
  /** `2.0`: an HTTP API route; `1.0`: a REST API (Lambda proxy integration) route. */
  payload: '2.0' | '1.0';
  function: string;
}

export interface GatewayStage {
  /** The environment this stage serves, e.g. `dev`. */
  name: string;
  /** `''` when the stage has the gateway to itself (multi-stack), `/dev` in a single-stack gateway. */
  prefix: string;
  routes: RouteDef[];
}

export interface GatewayCall {
  /** The stage's (environment's) name. */
  stage: string;
  function: string;
  /** `live`, or `smoke` when the request carried `x-stagecraft-alias: smoke`. */
  alias: 'live' | 'smoke';
  /** The event as JSON text. */
  payload: string;
  /** API Gateway's request id (the event's `requestContext.requestId`); Lambda assigns its own. */
  requestId: string;
}

export type GatewayInvoke = (call: GatewayCall) => Promise<InvokeOutcome>;

export interface GatewayOptions {
  /** Read on every request: routes may change while the gateway runs. Return the same array while nothing changed. */
  stages: () => readonly GatewayStage[];
  invoke: GatewayInvoke;
  /** Default `000000000000`. */
  accountId?: string;
  /** Default `stagecraft`. */
  apiId?: string;
  /** Used for `domainName` when a request carries no Host header. Default `us-east-1`. */
  region?: string;
  now?: () => Date;
  /**
   * How long the gateway waits for the function. Default: API Gateway's own limits, 30 s for HTTP
   * API routes and 29 s for REST routes.
   */
  integrationTimeoutMs?: number;
  /** Told when `invoke` itself rejects (the gateway then answers 500, as when Lambda refuses a call). */
  onError?: (error: unknown, call: GatewayCall) => void;
}

export interface Gateway {
  /** Resolves to the port actually bound (pass 0 for an ephemeral one). */
  listen(port: number, host?: string): Promise<number>;
  /** Stops accepting connections and resolves once in-flight requests are answered. */
  close(): Promise<void>;
  readonly server: Server;
}

/** An HTTP request as it reached the gateway: the raw material of both payload formats. */
export interface GatewayRequest {
  /** Upper case, as sent. */
  method: string;
  /** The path as sent (still percent-encoded), stage prefix included, without the query. */
  path: string;
  /** Everything after the first `?`, as sent; `''` when there is none. */
  query: string;
  /** `[name, value, name, value, …]` with names in their original case, as Node's `rawHeaders`. */
  rawHeaders: readonly string[];
  /** Empty when the request had no body. */
  body: Buffer;
  sourceIp: string;
  /** `HTTP/1.1` */
  protocol: string;
  /** The scheme and port the client reached the gateway on, for the `x-forwarded-*` headers. */
  scheme: string;
  port: number;
}

/** What the router found for a request, plus the per-request values API Gateway generates. */
export interface EventContext {
  /** The route as declared: `GET /orders/{id}` is routeMethod `GET` (or `ANY`) and resource `/orders/{id}`. */
  routeMethod: string;
  resource: string;
  /** Decoded path parameters, or undefined when the route has none. */
  pathParameters: Record<string, string> | undefined;
  /** API Gateway's stage name: `$default` for an HTTP API on its own port, else the environment's name. */
  stage: string;
  /** The stage prefix the request path starts with (`''` or `/dev`). */
  stagePrefix: string;
  requestId: string;
  /** REST only: the `x-amz-apigw-id` of the request. */
  extendedRequestId: string;
  /** REST only: a stable id of the resource, as REST APIs give every resource one. */
  resourceId: string;
  traceId: string;
  accountId: string;
  apiId: string;
  /** Fallback `domainName` when the request has no Host header. */
  defaultDomainName: string;
  time: Date;
}

/** A response ready to be written: headers in order, duplicates allowed (Set-Cookie). */
export interface HttpResponse {
  statusCode: number;
  headers: Array<[string, string]>;
  /** Text stays a string: Node then writes the head and the body in one piece. */
  body: string | Buffer;
  /** Why API Gateway rejected the function's result, as `$context.integrationErrorMessage` would say. */
  integrationError?: string;
}
