/**
 * Lambda's Invoke over its REST-JSON protocol: `POST /2015-03-31/functions/<name>/invocations`,
 * the invocation type and log type in headers, the payload as the body. A function error is a 200
 * with `X-Amz-Function-Error`; a request error is AWS's JSON error with `x-amzn-ErrorType`.
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */
import type { InvokeOutcome } from '../../../runtime/index.js';
import { fault, type Fault } from './fault.js';
import type { WireRequest, WireResponse } from './wire.js';

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;
/**
 * Payload limits: 6 MB synchronous, 256 KB asynchronous
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
 */
export const INVOKE_LIMITS = { syncBytes: 6_291_456, asyncBytes: 262_144, tailBytes: 4_096 } as const;

export interface LambdaTarget {
  /** The function's name in the manifest. */
  fn: string;
  /** The alias the call reaches (`live` when unqualified), or the version number it names. */
  role: 'live' | 'smoke' | number;
  /** The ARN the caller used, with its qualifier. */
  arn: string;
}

export interface LambdaBackend {
  /** The function a FunctionName (name, `name:qualifier`, partial or full ARN) and Qualifier name; else AWS's fault. */
  resolve(name: string, qualifier: string | undefined): LambdaTarget;
  invoke(
    target: LambdaTarget,
    payload: string,
    clientContext: Record<string, unknown> | undefined,
  ): Promise<InvokeOutcome>;
  /** Queues an asynchronous invocation durably; returns its request id. */
  invokeAsync(target: LambdaTarget, payload: string): string;
  /** Whether the target has a version to run (for DryRun). */
  deployed(target: LambdaTarget): boolean;
}

export function isLambda(request: WireRequest): boolean {
  return INVOKE_PATH.test(request.path);
}

export function lambdaFault(wire: Fault): WireResponse {
  return {
    status: wire.status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': wire.code },
    body: JSON.stringify({ Type: wire.type === 'Sender' ? 'User' : 'Service', message: wire.message }),
  };
}

function clientContextOf(header: string | undefined): Record<string, unknown> | undefined {
  if (header === undefined || header === '') return undefined;
  try {
    return JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw fault(400, 'InvalidRequestContentException', 'Client context must be a valid Base64-encoded JSON object.');
  }
}

/** Lambda's Tail: the last 4 KB of the invocation's log, base64. */
function logTail(lines: readonly string[]): string {
  const bytes = Buffer.from(lines.map((line) => (line.endsWith('\n') ? line : `${line}\n`)).join(''), 'utf8');
  return bytes.subarray(Math.max(0, bytes.length - INVOKE_LIMITS.tailBytes)).toString('base64');
}

export async function runLambda(backend: LambdaBackend, request: WireRequest): Promise<WireResponse> {
  if (request.method !== 'POST') throw fault(405, 'MethodNotAllowed', 'Invoke takes POST');
  const name = decodeURIComponent(INVOKE_PATH.exec(request.path)?.[1] ?? '');
  const type = request.headers['x-amz-invocation-type'] ?? 'RequestResponse';
  if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
    throw fault(
      400,
      'InvalidParameterValueException',
      `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: ` +
        'Member must satisfy enum value set: [Event, RequestResponse, DryRun]',
    );
  }
  const target = backend.resolve(name, request.query.get('Qualifier') ?? undefined);
  const limit = type === 'Event' ? INVOKE_LIMITS.asyncBytes : INVOKE_LIMITS.syncBytes;
  if (request.body.length > limit) {
    throw fault(
      413,
      'RequestTooLargeException',
      `Request must be smaller than ${limit} bytes for the ${type === 'Event' ? 'InvokeAsync' : 'InvokeFunction'} ` +
        'operation',
    );
  }
  const payload = request.body.length === 0 ? '{}' : request.body.toString('utf8');
  try {
    JSON.parse(payload);
  } catch (error) {
    throw fault(
      400,
      'InvalidRequestContentException',
      `Could not parse request body into json: ${(error as Error).message}`,
    );
  }
  if (type === 'DryRun') {
    if (!backend.deployed(target)) throw notFound(target.arn);
    return { status: 204, headers: {}, body: '' };
  }
  if (type === 'Event') {
    const requestId = backend.invokeAsync(target, payload);
    return { status: 202, headers: { 'x-amzn-requestid': requestId }, body: '' };
  }
  const outcome = await backend.invoke(target, payload, clientContextOf(request.headers['x-amz-client-context']));
  if (!outcome.ok && outcome.error.errorType === 'ResourceNotFoundException' && outcome.requestId === '')
    throw notFound(target.arn);
  if (!outcome.ok && outcome.cause === 'throttled') throw fault(429, 'TooManyRequestsException', 'Rate Exceeded.');
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-requestid': outcome.requestId };
  if (request.headers['x-amz-log-type'] === 'Tail') headers['x-amz-log-result'] = logTail(outcome.logs);
  if (outcome.ok) return { status: 200, headers, body: outcome.payload };
  headers['x-amz-function-error'] = 'Unhandled';
  return { status: 200, headers, body: JSON.stringify(outcome.error) };
}

export function notFound(arn: string): Error {
  return fault(404, 'ResourceNotFoundException', `Function not found: ${arn}`);
}
