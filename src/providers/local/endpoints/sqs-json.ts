/**
 * SQS's JSON protocol (what current SDKs and the aws CLI speak): `x-amz-target: AmazonSQS.<Op>`, a
 * JSON body in, JSON out; errors carry the query-compatible code in `x-amzn-query-error`.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-json-faqs.html
 */
import type { Fault } from './fault.js';
import { fault } from './fault.js';
import { jsonResponse, type WireRequest, type WireResponse } from './wire.js';

export function isSqsJson(request: WireRequest): boolean {
  return (request.headers['x-amz-target'] ?? '').startsWith('AmazonSQS.');
}

export function fromSqsJson(request: WireRequest): { operation: string; input: Record<string, unknown> } {
  const operation = (request.headers['x-amz-target'] ?? '').slice('AmazonSQS.'.length);
  let input: unknown;
  try {
    input = request.body.length === 0 ? {} : JSON.parse(request.body.toString('utf8'));
  } catch {
    throw fault(400, 'InvalidParameterValue', 'The request body is not valid JSON.');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw fault(400, 'InvalidParameterValue', 'The request body is not a JSON object.');
  return { operation, input: input as Record<string, unknown> };
}

export function toSqsJson(output: Record<string, unknown>): WireResponse {
  return jsonResponse(200, output);
}

export function sqsJsonFault(wire: Fault): WireResponse {
  const legacy = wire.queryCode ?? wire.code;
  return jsonResponse(
    wire.status,
    { __type: `com.amazonaws.sqs#${wire.code}`, message: wire.message },
    {
      'x-amzn-query-error': `${legacy};${wire.type}`,
    },
  );
}
