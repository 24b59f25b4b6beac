/**
 * Lambda destinations: after an asynchronous invocation (or, in our manifest, a queue-triggered
 * one) Lambda sends an invocation record to `onSuccess` or `onFailure`: a queue gets it as a
 * message body, a topic as a message, a function as the event of an asynchronous invocation.
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 */
import type { Target } from '../../../manifest/index.js';
import type { InvokeOutcome } from '../../../runtime/index.js';

/** An outcome that may say which version ran (an alias resolves per invocation during a canary). */
export type InvokeResult = InvokeOutcome & { executedVersion?: string };

export type DestinationCondition = 'Success' | 'RetriesExhausted' | 'EventAgeExceeded';

export interface InvocationRecord {
  version: '1.0';
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: DestinationCondition;
    approximateInvokeCount: number;
  };
  requestPayload: unknown;
  /** Absent when the event expired before any attempt finished. */
  responseContext?: { statusCode: number; executedVersion: string; functionError?: 'Unhandled' };
  responsePayload?: unknown;
}

export interface InvocationRecordInput {
  now: number;
  requestId: string;
  /** The ARN the function was invoked with (the `live` alias ARN). */
  functionArn: string;
  condition: DestinationCondition;
  approximateInvokeCount: number;
  /** The event, as JSON text. */
  requestPayload: string;
  /** The last attempt's outcome, if one finished; its `executedVersion`, if any, goes into the record (else `$LATEST`). */
  outcome?: InvokeResult;
}

export function invocationRecord(input: InvocationRecordInput): InvocationRecord {
  const { outcome } = input;
  return {
    version: '1.0',
    timestamp: new Date(input.now).toISOString(),
    requestContext: {
      requestId: input.requestId,
      functionArn: input.functionArn,
      condition: input.condition,
      approximateInvokeCount: input.approximateInvokeCount,
    },
    requestPayload: parseJson(input.requestPayload),
    ...(outcome === undefined
      ? {}
      : {
          // A function error is still a 200 from the Invoke API; `functionError` says it failed.
          responseContext: {
            statusCode: 200,
            executedVersion: outcome.executedVersion ?? '$LATEST',
            ...(outcome.ok ? {} : { functionError: 'Unhandled' as const }),
          },
          responsePayload: outcome.ok ? parseJson(outcome.payload) : outcome.error,
        }),
  };
}

/** Where records go, by logical name in the current environment. Each call writes durably before it returns. */
export interface DestinationSinks {
  sendToQueue(queue: string, body: string): unknown;
  publish(topic: string, message: string): unknown;
  invokeAsync(fn: string, payload: string): unknown;
}

export interface DestinationConfig {
  onSuccess?: Target | undefined;
  onFailure?: Target | undefined;
}

/** Sends `record` to the destination its condition selects; returns that target, or undefined when none is configured. */
export function sendToDestination(
  config: DestinationConfig | undefined,
  record: InvocationRecord,
  sinks: DestinationSinks,
): Target | undefined {
  const target = record.requestContext.condition === 'Success' ? config?.onSuccess : config?.onFailure;
  if (!target) return undefined;
  const text = JSON.stringify(record);
  if (target.type === 'queue') sinks.sendToQueue(target.name, text);
  else if (target.type === 'topic') sinks.publish(target.name, text);
  else sinks.invokeAsync(target.name, text);
  return target;
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
