/**
 * One invocation's bookkeeping inside an execution environment: its clock, its share of the
 * runtime's output, and how it ended. Turned into an `InvokeOutcome` exactly once.
 */
import { performance } from 'node:perf_hooks';
import { StagecraftError } from '../errors.js';
import { droppedLine } from './log-router.js';
import { billedMs, endLine, reportLine, startLine, type ReportFields } from './platform-report.js';
import type { FailureCause, InvokeOutcome, LambdaError } from './types.js';

export type InvocationResult =
  | { ok: true; payload: string }
  | { ok: false; error: LambdaError; cause: FailureCause; status?: ReportFields['status'] };

export class Invocation {
  readonly invokedAt = performance.now();
  endedAt: number | undefined;
  /** Output from before this invocation started (init, or between invocations): before START. */
  preLogs: string[] = [];
  logs: string[] = [];
  /** Lines past the log router's cap, counted instead of kept. */
  droppedLines = 0;
  /** Whether START has been written: output now belongs to this invocation. */
  started = false;
  /** The START line, once written. */
  private start = '';
  timedOut = false;
  settled = false;

  constructor(
    readonly requestId: string,
    private readonly resolve: (outcome: InvokeOutcome) => void,
  ) {}

  /** START goes out once the lines already written before delivery have been collected. */
  begin(preLogs: string[], version: string): string {
    this.preLogs = preLogs;
    this.started = true;
    this.start = startLine(this.requestId, version);
    return this.start;
  }

  markEnded(): void {
    this.endedAt ??= performance.now();
  }

  /** Builds the outcome and the END / REPORT lines; returns the platform lines not yet written. */
  settle(
    result: InvocationResult,
    report: { version: string; memoryMb: number; maxMemoryMb: number; initDurationMs: number | undefined },
  ): string[] {
    this.markEnded();
    const written: string[] = [];
    if (!this.started) written.push(this.begin(this.preLogs, report.version));
    // Measured on the timeout's clock: from the moment this environment accepted the invocation.
    const durationMs = (this.endedAt ?? this.invokedAt) - this.invokedAt;
    const billed = billedMs(durationMs);
    const status = result.ok ? undefined : result.status;
    const end = endLine(this.requestId);
    const reportText = reportLine({
      requestId: this.requestId,
      version: report.version,
      durationMs,
      billedMs: billed,
      memoryMb: report.memoryMb,
      maxMemoryMb: report.maxMemoryMb,
      ...(report.initDurationMs === undefined ? {} : { initDurationMs: report.initDurationMs }),
      ...(status === undefined ? {} : { status }),
    });
    if (this.droppedLines > 0) {
      const note = droppedLine(this.droppedLines);
      this.logs.push(note);
      written.push(note);
    }
    written.push(end, reportText);
    const logs = [...this.preLogs, this.start, ...this.logs, end, reportText];
    const common = {
      requestId: this.requestId,
      durationMs,
      billedMs: billed,
      ...(report.initDurationMs === undefined ? {} : { initDurationMs: report.initDurationMs }),
      maxMemoryMb: report.maxMemoryMb,
      logs,
    };
    this.resolve(
      result.ok
        ? { ...common, ok: true, payload: result.payload }
        : { ...common, ok: false, error: result.error, cause: result.cause },
    );
    return written;
  }
}

/** Lambda refuses a payload that is not JSON (InvalidRequestContentException) before running anything. */
export function assertJson(payload: string): void {
  try {
    JSON.parse(payload);
  } catch (error) {
    throw new StagecraftError('ARGUMENT_INVALID', `The event is not valid JSON: ${(error as Error).message}`, {
      hint: 'Pass the event as JSON text, e.g. \'{"id":"1"}\'.',
    });
  }
}
