/**
 * A synchronous Invoke through an alias or version, as the runtime's `InvokeOutcome`: the
 * payload on success, Lambda's error document on a function error
 * (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html), and the tail of the logs that
 * `LogType: Tail` returns, with the figures of its REPORT line.
 */
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { randomUUID } from 'node:crypto';
import { StagecraftError } from '../../errors.js';
import type { FailureCause, InvokeOutcome, LambdaError } from '../../runtime/index.js';
import { errorName, isNotFound, providerError } from '../../aws-errors.js';
import type { AwsClients } from './clients.js';
import type { InvokeRequest } from '../provider.js';

export async function invokeFunction(clients: AwsClients, request: InvokeRequest): Promise<InvokeOutcome> {
  const started = performance.now();
  let response;
  try {
    response = await clients.lambda.send(
      new InvokeCommand({
        FunctionName: request.instance,
        Qualifier: request.qualifier,
        Payload: Buffer.from(request.payload),
        LogType: 'Tail',
      }),
    );
  } catch (error) {
    const elapsed = Math.round(performance.now() - started);
    if (errorName(error) === 'TooManyRequestsException') {
      return {
        ok: false,
        error: { errorType: 'TooManyRequestsException', errorMessage: (error as Error).message },
        cause: 'throttled',
        requestId: randomUUID(),
        durationMs: elapsed,
        billedMs: 0,
        maxMemoryMb: 0,
        logs: [],
      };
    }
    if (isNotFound(error)) {
      throw new StagecraftError(
        /^\d+$/.test(request.qualifier) ? 'VERSION_NOT_FOUND' : 'ALIAS_NOT_FOUND',
        `${request.instance} has no ${/^\d+$/.test(request.qualifier) ? 'version' : 'alias'} ${request.qualifier} on AWS`,
        {
          hint: 'deploy a release to this environment first: `stagecraft deploy <env>`',
          cause: error,
        },
      );
    }
    throw providerError(error, `cannot invoke ${request.instance}:${request.qualifier}`);
  }
  const wall = Math.round(performance.now() - started);
  const logs = response.LogResult
    ? Buffer.from(response.LogResult, 'base64')
        .toString('utf8')
        .split('\n')
        .filter((line) => line.length > 0)
    : [];
  const report = parseReport(logs);
  const common = {
    requestId: response.$metadata.requestId ?? randomUUID(),
    durationMs: report.durationMs ?? wall,
    billedMs: report.billedMs ?? 0,
    maxMemoryMb: report.maxMemoryMb ?? 0,
    ...(report.initDurationMs === undefined ? {} : { initDurationMs: report.initDurationMs }),
    logs,
  };
  const payload = response.Payload ? Buffer.from(response.Payload).toString('utf8') : '';
  if (!response.FunctionError) return { ok: true, payload, ...common };
  const error = parseError(payload);
  return { ok: false, error, cause: causeOf(error), ...common };
}

function parseError(payload: string): LambdaError {
  try {
    const value = JSON.parse(payload) as Partial<LambdaError>;
    return {
      errorType: typeof value.errorType === 'string' ? value.errorType : 'Error',
      errorMessage: typeof value.errorMessage === 'string' ? value.errorMessage : payload,
      ...(Array.isArray(value.trace) ? { trace: value.trace } : {}),
      ...(Array.isArray(value.stackTrace) ? { stackTrace: value.stackTrace } : {}),
    };
  } catch {
    return { errorType: 'Error', errorMessage: payload };
  }
}

/** Lambda reports platform failures through the error type (https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html). */
function causeOf(error: LambdaError): FailureCause {
  if (error.errorType === 'Sandbox.Timedout' || /Task timed out/.test(error.errorMessage)) return 'timeout';
  if (error.errorType === 'Runtime.ExitError') return 'exit';
  if (/^Runtime\.(Init|ImportModule|HandlerNotFound|UserCodeSyntax)/.test(error.errorType)) return 'init';
  return 'handler';
}

function parseReport(logs: string[]): {
  durationMs?: number;
  billedMs?: number;
  maxMemoryMb?: number;
  initDurationMs?: number;
} {
  const line = logs.find((entry) => entry.startsWith('REPORT '));
  if (!line) return {};
  const figure = (label: string) => {
    const match = new RegExp(`${label}: ([\\d.]+)`).exec(line);
    return match ? Math.round(Number(match[1])) : undefined;
  };
  const out: { durationMs?: number; billedMs?: number; maxMemoryMb?: number; initDurationMs?: number } = {};
  const values = {
    durationMs: figure('\tDuration') ?? figure(' Duration'),
    billedMs: figure('Billed Duration'),
    maxMemoryMb: figure('Max Memory Used'),
    initDurationMs: figure('Init Duration'),
  };
  for (const [key, value] of Object.entries(values)) if (value !== undefined) out[key as keyof typeof out] = value;
  return out;
}
