/**
 * A local API Gateway: routes HTTP requests to a function's `live` alias (`smoke` on purpose, with
 * the `x-stagecraft-alias: smoke` header) and translates with AWS's own event shapes and response
 * rules — HTTP API payload 2.0 and REST API (Lambda proxy) payload 1.0.
 */
export { createGateway, ALIAS_HEADER } from './server.js';
export { toEventV2, fromResultV2 } from './payload-v2.js';
export { toEventV1, fromResultV1 } from './payload-v1.js';
export { compileRoutes, matchRoute } from './router.js';
export type { RouteMatch, RouteTable } from './router.js';
export { MAX_BODY_BYTES } from './responses.js';
export type {
  EventContext,
  Gateway,
  GatewayCall,
  GatewayInvoke,
  GatewayOptions,
  GatewayRequest,
  GatewayStage,
  HttpResponse,
  RouteDef,
} from './types.js';
