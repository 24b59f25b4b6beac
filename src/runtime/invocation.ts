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
    const { initDurationMs } = report;
    // Built property by property, without object spreads: this runs once per invocation, and
    // spreads of conditional literals are slow in V8. The keys keep their order of old.
    const fields: ReportFields = {
      requestId: this.requestId,
      version: report.version,
      durationMs,
      billedMs: billed,
      memoryMb: report.memoryMb,
      maxMemoryMb: report.maxMemoryMb,
    };
    if (initDurationMs !== undefined) fields.initDurationMs = initDurationMs;
    if (!result.ok && result.status !== undefined) fields.status = result.status;
    const end = endLine(this.requestId);
    const reportText = reportLine(fields);
    if (this.droppedLines > 0) {
      const note = droppedLine(this.droppedLines);
      this.logs.push(note);
      written.push(note);
    }
    written.push(end, reportText);
    const logs =
      this.preLogs.length === 0 && this.logs.length === 0
        ? [this.start, end, reportText]
        : [...this.preLogs, this.start, ...this.logs, end, reportText];
    const outcome: Record<string, unknown> = { requestId: this.requestId, durationMs, billedMs: billed };
    if (initDurationMs !== undefined) outcome['initDurationMs'] = initDurationMs;
    outcome['maxMemoryMb'] = report.maxMemoryMb;
    outcome['logs'] = logs;
    if (result.ok) {
      outcome['ok'] = true;
      outcome['payload'] = result.payload;
    } else {
      outcome['ok'] = false;
      outcome['error'] = result.error;
      outcome['cause'] = result.cause;
    }
    this.resolve(outcome as unknown as InvokeOutcome);
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
