/**
 * The execution environments of one function instance, every version together, and the rules
 * Lambda applies to them: at most `concurrency` invocations run at once (a cold start counts from
 * the moment it begins); an idle environment of the same version is reused; the rest wait in a
 * bounded FIFO queue, or are throttled when it is full.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
 *
 * The pool only keeps the books — which environment is idle since when, who waits — and leaves
 * starting, invoking and stopping environments to the RuntimeHost.
 */
import type { ExecutionEnvironment } from './execution-environment.js';

/** An environment not running anything, and the version it belongs to. */
interface Idle {
  env: ExecutionEnvironment;
  /** Identifies the version the environment runs (see RuntimeHost's versionKey). */
  key: string;
  since: number;
}

/** Counters and gauges of one instance, as `RuntimeHost.stats()` reports them. */
export interface FunctionStats {
  /** The function instance: its Lambda function name, e.g. `shop-api-dev`. */
  instance: string;
  /** The limit in force: the `concurrency` of the version invoked last. */
  concurrency: number;
  /** Runtime processes alive, busy or not. */
  environments: number;
  /** Idle environments ready for a warm start. */
  warm: number;
  busy: number;
  queued: number;
  /** Invocations that ran (throttled ones did not). */
  invocations: number;
  /** Invocations that ran and failed, whatever the cause. */
  errors: number;
  throttles: number;
  coldStarts: number;
}

export class FunctionPool {
  limit = 1;
  /** Invocations holding a slot: running, or starting their environment. */
  busy = 0;
  invocations = 0;
  errors = 0;
  throttles = 0;
  coldStarts = 0;
  /** Every live environment of the instance, busy or idle. */
  readonly environments = new Set<ExecutionEnvironment>();
  /** Most recently used last. */
  private idle: Idle[] = [];
  /** Each waiter starts its invocation when called; first come, first served. */
  private readonly waiting: Array<() => void> = [];

  constructor(readonly instance: string) {}

  get queued(): number {
    return this.waiting.length;
  }

  get hasIdle(): boolean {
    return this.idle.length > 0;
  }

  /** Whether an invocation may start now without overtaking anyone in the queue. */
  get hasRoom(): boolean {
    return this.busy < this.limit && this.waiting.length === 0;
  }

  enqueue(start: () => void): void {
    this.waiting.push(start);
  }

  /** Starts waiters while there are free slots. */
  pump(): void {
    while (this.busy < this.limit && this.waiting.length > 0) this.waiting.shift()?.();
  }

  /**
   * The most recently used idle environment of this version, if any. Environments found dead on
   * the way (one can die while idle: a leftover timer that throws) are handed to `discard`.
   */
  takeIdle(key: string, discard: (env: ExecutionEnvironment) => void): ExecutionEnvironment | undefined {
    for (let i = this.idle.length - 1; i >= 0; i -= 1) {
      const entry = this.idle[i] as Idle;
      if (entry.env.state !== 'ready') {
        this.idle.splice(i, 1);
        discard(entry.env);
        continue;
      }
      if (entry.key !== key) continue;
      this.idle.splice(i, 1);
      return entry.env;
    }
    return undefined;
  }

  putIdle(env: ExecutionEnvironment, key: string, now: number): void {
    this.idle.push({ env, key, since: now });
  }

  /**
   * Makes room for one more environment: with as many environments as slots, the one idle the
   * longest (of any version) goes, so a function never runs more processes than its concurrency.
   */
  evictForNew(): ExecutionEnvironment | undefined {
    if (this.environments.size < this.limit) return undefined;
    return this.idle.shift()?.env;
  }

  /** Idle environments past `idleMs`, or dead: removed from the pool and returned. */
  reap(now: number, idleMs: number): ExecutionEnvironment[] {
    const gone: ExecutionEnvironment[] = [];
    this.idle = this.idle.filter((entry) => {
      const keep = entry.env.state === 'ready' && now - entry.since < idleMs;
      if (!keep) gone.push(entry.env);
      return keep;
    });
    return gone;
  }

  /** Every idle environment, removed from the pool (for drain). */
  takeAllIdle(): ExecutionEnvironment[] {
    const all = this.idle.map((entry) => entry.env);
    this.idle = [];
    return all;
  }

  stats(): FunctionStats {
    return {
      instance: this.instance,
      concurrency: this.limit,
      environments: this.environments.size,
      warm: this.idle.filter((entry) => entry.env.state === 'ready').length,
      busy: this.busy,
      queued: this.waiting.length,
      invocations: this.invocations,
      errors: this.errors,
      throttles: this.throttles,
      coldStarts: this.coldStarts,
    };
  }
}
