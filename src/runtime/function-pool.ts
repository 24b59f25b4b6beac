/**
 * The execution environments of one function instance, every version together, and the rules
 * Lambda applies to them: at most `concurrency` invocations run at once (a cold start counts from
 * the moment it begins); an idle environment of the same version is reused; the rest wait in a
 * bounded FIFO queue, or are throttled when it is full.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
 *
 * An invocation that holds a slot but finds no idle environment of its version waits for one
 * (see RuntimeHost for when a new one is started for it). Whichever environment of the version
 * comes free first — a cold one finishing init, or a warm one finishing an invocation — goes to
 * the invocation that has waited longest.
 *
 * The pool only keeps the books — which environment is idle since when, who waits — and leaves
 * starting, invoking and stopping environments to the RuntimeHost.
 */
import type { ExecutionEnvironment } from './execution-environment.js';
import type { FunctionSpec } from './types.js';

/** An environment not running anything, and the version it belongs to. */
interface Idle {
  env: ExecutionEnvironment;
  /** Identifies the version the environment runs (see RuntimeHost's versionKey). */
  key: string;
  since: number;
}

/** An invocation holding a slot, waiting for an environment of its version. */
export interface EnvironmentWaiter {
  since: number;
  take(env: ExecutionEnvironment): void;
}

/** The books of one version: who waits for its environments, how many start or run. */
export class VersionBooks {
  /** The version's spec as last invoked: what a new environment of it runs. */
  fn: FunctionSpec | undefined;
  readonly waiters: EnvironmentWaiter[] = [];
  /** Environments in their init phase, not yet handed to anyone. */
  starting = 0;
  /** Environments running an invocation. */
  running = 0;

  /** Waiters no starting environment will serve: the first `starting` waiters are covered. */
  get uncovered(): number {
    return this.waiters.length - this.starting;
  }

  /** The longest-waiting invocation no starting environment is coming for. */
  get firstUncovered(): EnvironmentWaiter | undefined {
    return this.waiters[this.starting];
  }
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
  /** Invocations holding a slot: running, starting their environment, or waiting for one. */
  busy = 0;
  invocations = 0;
  errors = 0;
  throttles = 0;
  coldStarts = 0;
  /** How long the last cold start of this instance took, in ms (undefined before the first). */
  lastInitMs: number | undefined;
  /** The one timer that starts environments for invocations that waited too long. */
  scaleTimer: NodeJS.Timeout | undefined;
  /** When `scaleTimer` fires (performance.now() time). */
  scaleAt = Number.POSITIVE_INFINITY;
  /** Every live environment of the instance, busy or idle. */
  readonly environments = new Set<ExecutionEnvironment>();
  /** Per version key. */
  readonly versions = new Map<string, VersionBooks>();
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

  booksOf(key: string): VersionBooks {
    let books = this.versions.get(key);
    if (books === undefined) {
      books = new VersionBooks();
      this.versions.set(key, books);
    }
    return books;
  }

  /** Whether an environment of this version exists, idle, running or starting. */
  hasVersion(key: string): boolean {
    const books = this.versions.get(key);
    if (books !== undefined && books.running + books.starting > 0) return true;
    return this.idle.some((entry) => entry.key === key && entry.env.state === 'ready');
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
   * Whether one more environment may start: with as many environments as slots, only if one idle
   * the longest (of any version) can go for it — returned in `evicted` — so a function never runs
   * more processes than its concurrency.
   */
  roomForNew(): { ok: boolean; evicted?: ExecutionEnvironment } {
    if (this.environments.size < this.limit) return { ok: true };
    const evicted = this.idle.shift()?.env;
    return evicted === undefined ? { ok: false } : { ok: true, evicted };
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

  /** Drops the books of versions with nothing idle, running, starting or waiting (old deploys). */
  forgetUnusedVersions(): void {
    for (const [key, books] of this.versions) {
      const unused = books.waiters.length === 0 && books.running === 0 && books.starting === 0;
      if (unused && !this.idle.some((entry) => entry.key === key)) this.versions.delete(key);
    }
  }

  /** The idle environments whose version key matches, removed from the pool. */
  takeIdleWhere(match: (key: string) => boolean): ExecutionEnvironment[] {
    const taken = this.idle.filter((entry) => match(entry.key)).map((entry) => entry.env);
    this.idle = this.idle.filter((entry) => !match(entry.key));
    return taken;
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
