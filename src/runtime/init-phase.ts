/**
 * The init phase of an execution environment: from starting the runtime until it first asks for
 * an invocation. Its length is the "Init Duration" of the first (cold) REPORT only; if it fails,
 * every invocation of the environment answers with that failure, as Lambda answers a function
 * whose init fails.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-ib
 */
import { performance } from 'node:perf_hooks';
import type { InvocationResult } from './invocation.js';
import { exitError } from './platform-report.js';
import type { LambdaError } from './types.js';

export class InitPhase {
  private startedAt = 0;
  private durationMs: number | undefined;
  private coldReported = false;
  private readonly waiters: Array<() => void> = [];
  /** Set when init failed: what the environment answers to each invocation. */
  failure: ((requestId: string) => LambdaError) | undefined;

  begin(): void {
    this.startedAt = performance.now();
  }

  /** Resolves when init ends — or after `limitMs`, when the first invocation waits for the rest. */
  wait(limitMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, limitMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  end(): void {
    this.durationMs ??= performance.now() - this.startedAt;
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** The init duration for the cold invocation's REPORT; undefined for every later one. */
  takeColdDuration(): number | undefined {
    if (this.coldReported) return undefined;
    this.coldReported = true;
    return this.durationMs;
  }

  result(requestId: string): InvocationResult {
    const error = this.failure?.(requestId) ?? exitError(requestId, null, null);
    return { ok: false, error, cause: 'init', status: { kind: 'error', errorType: error.errorType } };
  }
}
