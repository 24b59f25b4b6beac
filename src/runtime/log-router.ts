/**
 * Where a runtime's output goes. Lambda files each line under the invocation it was written in;
 * lines written outside any invocation (during init, or by leftover timers after a response) are
 * kept and shown before the next invocation's START, as they would appear in the log stream.
 */
import type { Invocation } from './invocation.js';

/**
 * At most this many lines are kept per invocation, and as many between invocations: a handler
 * printing 50 MB must not grow the host's memory without end. Past it, lines are counted, and one
 * line in their place says how many were dropped (documented in README.md, "Logs").
 */
export const MAX_LINES = 10_000;

/** The line that stands for the lines dropped past MAX_LINES. */
export function droppedLine(count: number): string {
  return `[stagecraft] ${count} more log line(s) dropped: at most ${MAX_LINES} lines are kept per invocation`;
}

export class LogRouter {
  private pending: string[] = [];
  private pendingDropped = 0;

  constructor(private readonly onLog: ((line: string) => void) | undefined) {}

  /** A line from the runtime: the started invocation owns it until its outcome is built. */
  capture(line: string, current: Invocation | undefined): void {
    if (current?.started === true) {
      if (current.logs.length >= MAX_LINES) {
        current.droppedLines += 1;
        return;
      }
      current.logs.push(line);
    } else {
      if (this.pending.length >= MAX_LINES) {
        this.pendingDropped += 1;
        return;
      }
      this.pending.push(line);
    }
    this.onLog?.(line);
  }

  /** A platform line (START / END / REPORT): already in the outcome, only shown live. */
  emit(line: string): void {
    this.onLog?.(line);
  }

  takePending(): string[] {
    const lines = this.pending.splice(0);
    if (this.pendingDropped > 0) {
      const note = droppedLine(this.pendingDropped);
      this.pendingDropped = 0;
      lines.push(note);
      this.onLog?.(note);
    }
    return lines;
  }
}
