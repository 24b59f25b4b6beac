/**
 * Local AWS endpoints served by `up`, one per environment: SQS (JSON and query protocols), SNS
 * Publish/PublishBatch and Lambda Invoke over the runtime's own queues, topics and aliases.
 */
export { EnvironmentEndpoint, type EnvironmentEndpointOptions } from './environment-endpoint.js';
export { handle, listen, type EndpointBackends, type EndpointServer } from './server.js';
export type { WireRequest, WireResponse } from './wire.js';
