/**
 * Where a runtime's output goes. Lambda files each line under the invocation it was written in;
 * lines written outside any invocation (during init, or by leftover timers after a response) are
 * kept and shown before the next invocation's START, as they would appear in the log stream.
 */
import type { Invocation } from './invocation.js';

/** Between invocations an environment keeps at most this many lines (a chatty timer must not grow memory forever). */
const MAX_PENDING_LINES = 10_000;

export class LogRouter {
  private pending: string[] = [];

  constructor(private readonly onLog: ((line: string) => void) | undefined) {}

  /** A line from the runtime: the started invocation owns it until its outcome is built. */
  capture(line: string, current: Invocation | undefined): void {
    if (current?.started === true) current.logs.push(line);
    else {
      this.pending.push(line);
      if (this.pending.length > MAX_PENDING_LINES) this.pending.shift();
    }
    this.onLog?.(line);
  }

  /** A platform line (START / END / REPORT): already in the outcome, only shown live. */
  emit(line: string): void {
    this.onLog?.(line);
  }

  takePending(): string[] {
    return this.pending.splice(0);
  }
}
