/**
 * What the Lambda platform itself writes and answers: the START / END / REPORT log lines around
 * every invocation, and the error documents for failures the runtime never got to report
 * (timeouts, a runtime that died). Texts match what a synchronous invoke returns on AWS today.
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-view.html
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html (failure log styles)
 */
import type { LambdaError } from './types.js';

export interface ReportFields {
  requestId: string;
  version: string;
  durationMs: number;
  billedMs: number;
  memoryMb: number;
  maxMemoryMb: number;
  initDurationMs?: number;
  /** Platform failures only: AWS adds `Status: timeout` or `Status: error` + the error type. */
  status?: { kind: 'timeout' } | { kind: 'error'; errorType: string };
}

export function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

export function reportLine(fields: ReportFields): string {
  // One template, no array to join: written once per invocation.
  let line =
    `REPORT RequestId: ${fields.requestId}\tDuration: ${fields.durationMs.toFixed(2)} ms\t` +
    `Billed Duration: ${fields.billedMs} ms\tMemory Size: ${fields.memoryMb} MB\t` +
    `Max Memory Used: ${fields.maxMemoryMb} MB`;
  if (fields.initDurationMs !== undefined) line += `\tInit Duration: ${fields.initDurationMs.toFixed(2)} ms`;
  if (fields.status?.kind === 'timeout') line += '\tStatus: timeout';
  if (fields.status?.kind === 'error') line += `\tStatus: error\tError Type: ${fields.status.errorType}`;
  return line;
}

/** Lambda bills in 1 ms steps, rounding up, never less than 1 ms. */
export function billedMs(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs));
}

/** The answer to an invocation that ran past the function's timeout. */
export function timeoutError(requestId: string, timeoutSec: number): LambdaError {
  return {
    errorType: 'Sandbox.Timedout',
    errorMessage: `RequestId: ${requestId} Error: Task timed out after ${timeoutSec.toFixed(2)} seconds`,
  };
}

/** The answer to an invocation whose runtime process ended before reporting anything. */
export function exitError(requestId: string, code: number | null, signal: NodeJS.Signals | null): LambdaError {
  return { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: ${exitReason(code, signal)}` };
}

/**
 * The answer to an invocation whose environment went over its memory: Lambda kills the runtime and
 * reports it so (REPORT: `Status: error`, `Error Type: Runtime.OutOfMemory`).
 * https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html
 */
export function outOfMemoryError(requestId: string): LambdaError {
  return {
    errorType: 'Runtime.OutOfMemory',
    errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed`,
  };
}

/** A `provided*` function whose `bootstrap` cannot be started. */
export function invalidEntrypointError(requestId: string, detail: string): LambdaError {
  return { errorType: 'Runtime.InvalidEntrypoint', errorMessage: `RequestId: ${requestId} Error: ${detail}` };
}

/**
 * Lambda's service is written in Go and words a dead runtime the way Go's `exec.ExitError` does:
 * "exit status 1", "signal: killed".
 */
const SIGNAL_WORDS: Partial<Record<NodeJS.Signals, string>> = {
  SIGKILL: 'killed',
  SIGABRT: 'aborted',
  SIGSEGV: 'segmentation fault',
  SIGTERM: 'terminated',
  SIGBUS: 'bus error',
  SIGILL: 'illegal instruction',
  SIGFPE: 'floating point exception',
  SIGINT: 'interrupt',
  SIGHUP: 'hangup',
  SIGPIPE: 'broken pipe',
  SIGTRAP: 'trace/breakpoint trap',
};

export function exitReason(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal !== null) return `Runtime exited with error: signal: ${SIGNAL_WORDS[signal] ?? signal}`;
  if (code === null || code === 0) return 'Runtime exited without providing a reason';
  return `Runtime exited with error: exit status ${code}`;
}
