/**
 * Holds an invocation's result until the host has read all the output the runtime wrote before
 * it: stdout and stderr are pipes of their own, read at their own pace, and a handler that prints
 * megabytes has most of it still in the pipe when its result arrives. Our Node bootstrap says how
 * much it wrote (runtime-api.ts, `Stagecraft-Output-Bytes`); other runtimes do not, and their
 * result goes on at once as before.
 */
import type { OutputBytes } from './runtime-api.js';

/** The longest a result waits for its output: a runtime that under-reports must not stall. */
const MAX_WAIT_MS = 5_000;

export class OutputBarrier {
  private readonly read = [0, 0];
  private waiting: { target: OutputBytes; release: (complete: boolean) => void; timer: NodeJS.Timeout } | undefined;

  /** A chunk of stream 0 (stdout) or 1 (stderr) has been read and its lines captured. */
  counted(stream: 0 | 1, chunk: string): void {
    // Decoded text is never shorter in UTF-8 than the bytes it came from (U+FFFD is 3 bytes).
    this.read[stream]! += Buffer.byteLength(chunk);
    if (this.waiting !== undefined && this.reached(this.waiting.target)) this.release(true);
  }

  /**
   * Runs `then` once `target` bytes have been read (at once when undefined or already read);
   * `complete` tells whether they were: false for a runtime that reports nothing, a wait that
   * gave up, or a runtime that is gone.
   */
  after(target: OutputBytes | undefined, then: (complete: boolean) => void): void {
    this.release();
    if (target === undefined || this.reached(target)) {
      then(target !== undefined);
      return;
    }
    this.waiting = { target, release: then, timer: setTimeout(() => this.release(), MAX_WAIT_MS) };
  }

  /** Lets a held result go (the runtime is gone: nothing more will come). */
  release(complete = false): void {
    const waiting = this.waiting;
    if (waiting === undefined) return;
    this.waiting = undefined;
    clearTimeout(waiting.timer);
    waiting.release(complete);
  }

  /** Whether everything the runtime wrote before `target` was taken has been read and its lines captured. */
  reached(target: OutputBytes): boolean {
    return this.read[0]! >= target[0] && this.read[1]! >= target[1];
  }
}
