/**
 * The warm pool behind `stagecraft up`: runs many function versions at once, reusing idle
 * execution environments the way Lambda does, within each function's concurrency limit.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 *
 * - An invocation reuses an idle environment of its version (warm) or starts one (cold). Lambda
 *   starts a new environment at once whenever none is idle, and so does the host up to as many
 *   environments as the machine has cores (`scaleOutAtOnce`). Past that, an invocation that finds
 *   every environment of its version busy first waits for one of them for as long as a cold start
 *   of the function takes (`scaleOutAfterMs`), and only then is a new environment started. Lambda
 *   gives each environment its own CPU; here more runtime processes than cores only compete for
 *   the same cores when the handler is quick (bench/RESULTS.md), while a slow handler still gets
 *   its environments, a cold start's time later. The concurrency limit, the queue and throttling
 *   are the same either way: they count invocations, not processes.
 * - `prewarm` starts an environment before the first invocation, as Lambda's proactive
 *   initialization may (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-ib).
 * - For `dev`, `keepSpare` keeps a runtime process booted ahead without code (spare-runtime.ts),
 *   and `warmUp` starts a new version in it; a prewarm may adopt one booted before the host
 *   (`spares`); invocations' cold starts never use one. The spares are spare-pool.ts's.
 * - At most `maxStarting` environments are in their init phase at once, every function together
 *   (start-gate.ts): a burst over many functions queues its cold starts, an invocation's before any
 *   prewarm, rather than starting them all at once on two cores.
 * - At most `concurrency` invocations of an instance run at once, all its versions together;
 *   more wait in a FIFO queue of `maxQueuePerFunction`, and beyond that are throttled, as Lambda
 *   throttles (`TooManyRequestsException`, "Rate Exceeded."). The queue is a local nicety: Lambda
 *   throttles a synchronous invoke at once, but a developer's burst of requests should not fail.
 * - A dead environment (timed out, exited, out of memory, failed init) is dropped; the next
 *   invocation starts a fresh one, so an init error is answered each time and nothing else stops.
 * - Environments idle for `idleMs` are stopped: old versions fade out on their own.
 * - `drain()` refuses new work, lets what was accepted finish, and stops every runtime process.
 *
 * Function faults never throw: they are outcomes. `invoke` rejects only for what is not the
 * function's doing — a payload that is not JSON, code that is missing, a host that is draining.
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { StagecraftError } from '../errors.js';
import { ExecutionEnvironment } from './execution-environment.js';
import { FunctionPool, type FunctionStats, type VersionBooks } from './function-pool.js';
import { newRequestId } from './ids.js';
import { assertJson } from './invocation.js';
import { assertPayloadSize } from './payload-limits.js';
import { detectSandboxSoon, type SandboxChoice } from './sandbox.js';
import { StartGate } from './start-gate.js';
import type { LogSink } from './log-sink.js';
import { chooseNodeBinary } from './node-binary.js';
import { choosePythonBinary } from './python-binary.js';
import { runtimeKind } from './runtime-command.js';
import { SparePool } from './spare-pool.js';
import { spareKey, type SpareRuntime } from './spare-runtime.js';
import type { FunctionSpec, InvokeOptions, InvokeOutcome, LambdaError, NodeBinary, RuntimeTransport } from './types.js';

/** One function version as the host runs it; its instance is `functionName`. */
export interface HostedFunction extends FunctionSpec {
  /** Most invocations of this instance (every version together) running at once. */
  concurrency: number;
}

export interface RuntimeHostOptions {
  /** Waiting invocations per instance before throttling; default 100. */
  maxQueuePerFunction?: number;
  /** An environment idle this long is stopped; default 10 minutes. */
  idleMs?: number;
  /** Receives every invocation's log lines (not throttles: they never ran). */
  logSink?: LogSink;
  /** Messages for a person (e.g. a Node version mismatch), each said once. */
  warn?: (message: string) => void;
  /** Default: chosen per runtime with `chooseNodeBinary`. */
  nodeBinary?: NodeBinary;
  /** Default `process.env`; see ExecutionEnvironmentOptions. */
  hostEnv?: NodeJS.ProcessEnv;
  /** How Node runtimes reach the Runtime API; default `pipe` (`provided*` always use HTTP). */
  transport?: RuntimeTransport;
  /**
   * How many environments of an instance start at once when an invocation finds none idle, as
   * Lambda starts them; default: the machine's available parallelism (its cores).
   */
  scaleOutAtOnce?: number;
  /**
   * Past `scaleOutAtOnce` environments, how long an invocation that finds every environment of its
   * version busy waits for one of them before a new one is started for it. Default: as long as the
   * instance's last cold start took (before the first one is measured, 50 ms). `0` starts one at
   * once, as Lambda does.
   */
  scaleOutAfterMs?: number;
  /** Default: detected once (bwrap on PATH, or Node's permission model); see sandbox.ts. */
  sandbox?: SandboxChoice | Promise<SandboxChoice>;
  /**
   * Spare runtime processes booted before the host (src/cli/early-spares.ts): its prewarms adopt
   * those of their spareKey (if they run in the sandbox `sandbox` finds), `stopEarlySpares` stops the rest.
   */
  spares?: readonly SpareRuntime[];
  /**
   * Environments in their init phase at once, every function together; more wait their turn
   * (invocations first, then prewarms). Default: the machine's available parallelism.
   */
  maxStarting?: number;
}

/** An environment started ahead of `live` (`warmUp`): ready, or why its init failed. */
export interface WarmUp {
  ready: boolean;
  initError?: LambdaError;
}

/** The stats of one function instance. */
export type { FunctionStats } from './function-pool.js';

const DEFAULT_QUEUE = 100;
const DEFAULT_IDLE_MS = 10 * 60_000;
/** The wait for a busy environment before the instance's first cold start has been measured. */
const DEFAULT_SCALE_OUT_MS = 50;

export class RuntimeHost {
  private readonly pools = new Map<string, FunctionPool>();
  private readonly keys = new WeakMap<HostedFunction, string>();
  /** The version key of each environment the host started. */
  private readonly envKeys = new WeakMap<ExecutionEnvironment, string>();
  /** Environments of a version no longer served (`retireOtherVersions`): stopped once their invocation ends. */
  private readonly retiring = new WeakSet<ExecutionEnvironment>();
  private readonly binaries = new Map<string, NodeBinary>();
  private readonly warned = new Set<string>();
  /** Accepted invocations not yet answered (running or queued): drain waits for them. */
  private accepted = 0;
  /** Called when `accepted` drops to 0 while draining. */
  private drained: (() => void) | undefined;
  private readonly stopping = new Set<Promise<void>>();
  private reaper: NodeJS.Timeout | undefined;
  private draining = false;
  private readonly maxQueue: number;
  private readonly idleMs: number;
  private readonly atOnce: number;
  private readonly gate: StartGate;
  /** Detected once for every environment the host starts, while the host's owner goes on starting. */
  readonly sandbox: SandboxChoice | Promise<SandboxChoice>;
  /** `dev`'s kept spares and the early ones (spare-pool.ts). */
  private readonly spares: SparePool;
  /** Environments that took a kept spare: the spare's successor boots after their first invocation. */
  private readonly spareOwed = new WeakMap<ExecutionEnvironment, string>();

  constructor(private readonly options: RuntimeHostOptions = {}) {
    this.maxQueue = options.maxQueuePerFunction ?? DEFAULT_QUEUE;
    this.idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.atOnce = Math.max(1, options.scaleOutAtOnce ?? availableParallelism());
    this.gate = new StartGate(Math.max(1, Math.floor(options.maxStarting ?? availableParallelism())));
    this.sandbox = options.sandbox ?? detectSandboxSoon(options.hostEnv);
    this.spares = new SparePool({
      sandbox: this.sandbox,
      binaryFor: (runtime) => this.binaryFor(runtime),
      hostEnv: options.hostEnv ?? process.env,
      early: options.spares ?? [],
      usable: (options.transport ?? 'pipe') === 'pipe',
      stopping: (stopped) => this.track(stopped),
    });
  }

  /** Runs one invocation of `fn`; `payload` is the event as JSON text. */
  invoke(fn: HostedFunction, payload: string, options: InvokeOptions = {}): Promise<InvokeOutcome> {
    if (this.draining) {
      return Promise.reject(
        new StagecraftError('INVOKE_FAILED', `The runtime is shutting down; ${fn.functionName} was not invoked.`, {
          hint: 'Start `stagecraft up` again to invoke functions.',
        }),
      );
    }
    try {
      assertPayloadSize(payload, 'sync');
      if (options.payloadIsJson !== true) assertJson(payload); // before it takes a slot: a bad request is no invocation
    } catch (error) {
      return Promise.reject(error);
    }
    const pool = this.poolOf(fn.functionName);
    pool.limit = Math.max(1, Math.floor(fn.concurrency));
    if (pool.hasRoom) {
      this.accepted += 1;
      return this.run(pool, fn, payload, options);
    }
    if (pool.queued >= this.maxQueue) {
      pool.throttles += 1;
      return Promise.resolve(throttled(options.requestId ?? newRequestId()));
    }
    this.accepted += 1;
    const answer = new Promise<InvokeOutcome>((resolve, reject) => {
      pool.enqueue(() => this.run(pool, fn, payload, options).then(resolve, reject));
    });
    pool.pump(); // the limit may have just been raised
    return answer;
  }

  /** Per instance, in the order first invoked. */
  stats(): FunctionStats[] {
    return [...this.pools.values()].map((pool) => pool.stats());
  }

  /** Environments in their init phase now, every function together, and starts waiting for a slot. */
  starts(): { starting: number; waiting: number } {
    return { starting: this.gate.starting, waiting: this.gate.waiting };
  }

  /**
   * Refuses new invocations, lets those accepted (running and queued) finish, then stops every
   * runtime process and flushes the log sink. For SIGINT / SIGTERM.
   */
  async drain(): Promise<void> {
    this.draining = true;
    this.spares.close();
    this.gate.dropPrewarms(); // invocations waiting for a start slot keep theirs: they were accepted
    if (this.accepted > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
      });
    }
    clearInterval(this.reaper);
    this.reaper = undefined;
    for (const pool of this.pools.values()) {
      clearTimeout(pool.scaleTimer);
      pool.scaleTimer = undefined;
      pool.takeAllIdle();
      for (const env of [...pool.environments]) this.retire(pool, env);
    }
    await Promise.allSettled([...this.stopping]);
    await this.options.logSink?.flush();
  }

  private async run(
    pool: FunctionPool,
    fn: HostedFunction,
    payload: string,
    options: InvokeOptions,
  ): Promise<InvokeOutcome> {
    pool.busy += 1;
    const key = this.versionKey(fn);
    const books = pool.booksOf(key);
    books.fn = fn;
    let env: ExecutionEnvironment | undefined;
    try {
      env = pool.takeIdle(key, (dead) => this.retire(pool, dead));
      if (env === undefined) env = await this.environmentFor(pool, books);
      else books.running += 1;
      // Environments are shared by the aliases of a version: the ARN is the invoking alias's.
      const outcome = await env.invokeChecked(payload, options, options.invokedArn ?? fn.invokedArn);
      pool.invocations += 1;
      if (!outcome.ok) pool.errors += 1;
      this.options.logSink?.write({
        instance: fn.functionName,
        version: fn.version,
        requestId: outcome.requestId,
        lines: outcome.logs,
      });
      return outcome;
    } finally {
      pool.busy -= 1;
      if (env !== undefined) this.release(pool, env, key, books);
      pool.pump();
      // Answered (its caller is resumed after this): one fewer for drain to wait for.
      this.accepted -= 1;
      if (this.accepted === 0) this.drained?.();
    }
  }

  /**
   * Starts one environment of `fn` ahead of its first invocation, unless the version already has
   * one (idle, busy or starting) or the instance is at its concurrency in environments. With every
   * start slot taken it waits for one, behind every invocation that waits.
   */
  prewarm(fn: HostedFunction): void {
    if (this.draining) return;
    if (this.gate.full) {
      this.gate.later(() => this.prewarm(fn));
      return;
    }
    const pool = this.poolOf(fn.functionName);
    pool.limit = Math.max(1, Math.floor(fn.concurrency));
    const key = this.versionKey(fn);
    if (pool.hasVersion(key) || pool.environments.size >= pool.limit) return;
    const books = pool.booksOf(key);
    books.fn = fn;
    const spare = this.spares.takeEarly(fn);
    if (this.startEnvironment(pool, key, books, false, spare) === undefined && spare !== undefined)
      this.spares.returnEarly(spare);
  }

  /** Stops the spares booted before the host that no prewarm took: `up` keeps none (see keepSpare). */
  stopEarlySpares(): void {
    this.spares.stopEarly();
  }

  /**
   * For `dev`, before `live` moves to `fn`: starts one environment of its version (unless it has
   * one; the idle environment of another version makes room at the concurrency limit) and
   * resolves once its init phase is over, with the init error when it failed.
   */
  async warmUp(fn: HostedFunction): Promise<WarmUp> {
    if (this.draining) return { ready: false };
    const pool = this.poolOf(fn.functionName);
    pool.limit = Math.max(1, Math.floor(fn.concurrency));
    const key = this.versionKey(fn);
    const books = pool.booksOf(key);
    books.fn = fn;
    let spare: SpareRuntime | undefined;
    let env = [...pool.environments].find((candidate) => this.envKeys.get(candidate) === key);
    if (env === undefined) {
      spare = this.spares.take(fn);
      env = this.startEnvironment(pool, key, books, true, spare);
    }
    if (env === undefined) {
      if (spare !== undefined) void spare.stop();
      return { ready: false };
    }
    await env.start().catch(() => undefined);
    // The next spare boots once this environment has answered its first request (see `release`):
    // not beside this init, which it would slow down on two cores, nor before that answer.
    const spareOf = spareKey(fn);
    if (spareOf !== undefined && spare !== undefined) this.spareOwed.set(env, spareOf);
    else if (spareOf !== undefined) void this.spares.boot(spareOf);
    const initError = env.initError;
    return { ready: env.state === 'ready' || env.state === 'busy', ...(initError ? { initError } : {}) };
  }

  /**
   * For `dev`: from now on one spare runtime process (spare-runtime.ts) is kept booted for
   * functions like `fn`, and `warmUp` starts their new versions in it. Several functions may share
   * one; a function no spare can run (not Node, or setting NODE_OPTIONS and the like) gets none.
   */
  keepSpare(fn: HostedFunction): void {
    if (!this.draining) this.spares.keep(fn);
  }

  /**
   * For `dev`, once `live` moved to `fn`: the other versions of its instance drain — their idle
   * environments stop now, busy ones as soon as their invocation ends — so old code stops serving.
   */
  retireOtherVersions(fn: HostedFunction): void {
    const pool = this.pools.get(fn.functionName);
    if (pool === undefined) return;
    const key = this.versionKey(fn);
    for (const env of pool.takeIdleWhere((idleKey) => idleKey !== key)) this.retire(pool, env);
    for (const env of pool.environments) if (this.envKeys.get(env) !== key) this.retiring.add(env);
  }

  /** Waits in line for an environment of the version; `balance` decides when to start one. */
  private environmentFor(pool: FunctionPool, books: VersionBooks): Promise<ExecutionEnvironment> {
    return new Promise<ExecutionEnvironment>((take) => {
      books.waiters.push({ since: performance.now(), take });
      this.balance(pool);
    });
  }

  /**
   * Starts environments for waiting invocations that no starting environment will serve: at once
   * while the version has fewer than `scaleOutAtOnce` environments running or starting (with none,
   * nothing would ever come free), else once the longest of them has waited `scaleOutAfterMs`.
   * One timer per instance.
   */
  private balance(pool: FunctionPool): void {
    const now = performance.now();
    const patience = this.options.scaleOutAfterMs ?? pool.lastInitMs ?? DEFAULT_SCALE_OUT_MS;
    let next = Number.POSITIVE_INFINITY;
    for (const [key, books] of pool.versions) {
      while (books.uncovered > 0) {
        const due = (books.firstUncovered?.since ?? now) + patience;
        const comingFree = books.running + books.starting;
        if (comingFree >= this.atOnce && now < due) {
          next = Math.min(next, due);
          break;
        }
        // No room: every slot's environment is busy; the next to finish makes room.
        if (!this.startEnvironment(pool, key, books, true)) break;
      }
    }
    // A timer already due no later stays: when it fires it balances again and re-arms.
    if (next === Number.POSITIVE_INFINITY || (pool.scaleTimer !== undefined && pool.scaleAt <= next)) return;
    clearTimeout(pool.scaleTimer);
    pool.scaleAt = next;
    pool.scaleTimer = setTimeout(
      () => {
        pool.scaleTimer = undefined;
        pool.scaleAt = Number.POSITIVE_INFINITY;
        this.balance(pool);
      },
      Math.max(1, Math.ceil(next - now)),
    );
  }

  /**
   * Starts an environment of the version if the instance has room for one (evicting the idle
   * environment of another version that waited longest, when `evict`); it goes to the longest
   * waiter once its init phase is over. Returns the environment it started, if any.
   */
  private startEnvironment(
    pool: FunctionPool,
    key: string,
    books: VersionBooks,
    evict = false,
    spare?: SpareRuntime,
  ): ExecutionEnvironment | undefined {
    const fn = books.fn;
    if (fn === undefined) return undefined;
    // Every start slot taken: an invocation (`evict`: one waits) gets the next one that frees.
    if (this.gate.full) {
      if (evict) this.gate.wait(pool, () => this.balance(pool));
      return undefined;
    }
    if (pool.environments.size >= pool.limit) {
      const room = evict ? pool.roomForNew() : { ok: false };
      if (!room.ok) return undefined;
      if (room.evicted !== undefined) this.retire(pool, room.evicted);
    }
    this.gate.take();
    const kind = runtimeKind(fn.runtime);
    const env = new ExecutionEnvironment(fn, {
      transport: this.options.transport ?? 'pipe',
      warn: (message) => this.warnOnce(message),
      ...(this.options.hostEnv === undefined ? {} : { hostEnv: this.options.hostEnv }),
      ...(kind === 'node' ? { nodeBinary: this.binaryFor(fn.runtime) } : {}),
      ...(kind === 'python' ? { pythonBinary: this.binaryFor(fn.runtime) } : {}),
      sandbox: this.sandbox,
      ...(spare === undefined ? {} : { spare }),
    });
    pool.environments.add(env);
    this.envKeys.set(env, key);
    pool.coldStarts += 1;
    books.starting += 1;
    const began = performance.now();
    const initialized = (): void => {
      books.starting -= 1;
      if (env.state === 'ready') pool.lastInitMs = performance.now() - began;
      this.available(pool, env, key, books);
      this.gate.give(); // after the environment found its waiter: a start for it is not due any more
    };
    env.start().then(initialized, initialized);
    return env;
  }

  /** An environment back from an invocation: to the next waiter, idle, or gone. */
  private release(pool: FunctionPool, env: ExecutionEnvironment, key: string, books: VersionBooks): void {
    books.running -= 1;
    const owed = this.spareOwed.get(env);
    if (owed !== undefined) {
      this.spareOwed.delete(env);
      // After the answer has gone out: a spawn holds this thread for a few milliseconds.
      setImmediate(() => void this.spares.boot(owed));
    }
    if (env.state !== 'ready' || this.draining || this.retiring.has(env)) {
      this.retire(pool, env);
      this.balance(pool);
      return;
    }
    this.available(pool, env, key, books);
  }

  /**
   * An environment free to serve (after init, or after an invocation): the longest waiter of its
   * version gets it — a dead one too, which answers with its init error — else it is idle.
   */
  private available(pool: FunctionPool, env: ExecutionEnvironment, key: string, books: VersionBooks): void {
    if (!pool.environments.has(env)) {
      this.balance(pool); // stopped while starting (evicted or drained): someone else must serve
      return;
    }
    const waiter = books.waiters.shift();
    if (waiter !== undefined) {
      books.running += 1;
      waiter.take(env);
      return;
    }
    if (env.state !== 'ready' || this.draining || this.retiring.has(env)) {
      this.retire(pool, env);
      return;
    }
    pool.putIdle(env, key, Date.now());
    this.startReaper();
    if (pool.versions.size > 1) this.balance(pool); // an idle environment may make room for another version
  }

  private retire(pool: FunctionPool, env: ExecutionEnvironment): void {
    if (!pool.environments.delete(env)) return;
    this.track(env.stop().catch(() => undefined));
  }

  /** A process being stopped: drain waits for it. */
  private track(stopped: Promise<void>): void {
    this.stopping.add(stopped);
    void stopped.then(() => this.stopping.delete(stopped));
  }

  /** Sweeps idle environments a few times per `idleMs`; stops sweeping when nothing is idle. */
  private startReaper(): void {
    if (this.reaper !== undefined) return;
    const period = Math.min(60_000, Math.max(10, Math.floor(this.idleMs / 4)));
    this.reaper = setInterval(() => {
      const now = Date.now();
      let idleLeft = false;
      for (const pool of this.pools.values()) {
        for (const env of pool.reap(now, this.idleMs)) this.retire(pool, env);
        pool.forgetUnusedVersions();
        idleLeft ||= pool.hasIdle;
      }
      if (!idleLeft) {
        clearInterval(this.reaper);
        this.reaper = undefined;
      }
    }, period).unref();
  }

  private poolOf(instance: string): FunctionPool {
    let pool = this.pools.get(instance);
    if (pool === undefined) {
      pool = new FunctionPool(instance);
      this.pools.set(instance, pool);
    }
    return pool;
  }

  /**
   * What makes environments interchangeable: everything of the spec but the ARN callers use
   * (an alias ARN is per invocation). Versions are immutable, but `$LATEST` is not, and two specs
   * of one version must never share an environment if their code or config differ.
   */
  private versionKey(fn: HostedFunction): string {
    let key = this.keys.get(fn);
    if (key === undefined) {
      const { functionName: _name, invokedArn: _arn, concurrency: _concurrency, environment, ...rest } = fn;
      key = JSON.stringify([rest, Object.entries(environment).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
      this.keys.set(fn, key);
    }
    return key;
  }

  /** The Node binary or Python interpreter of a runtime, chosen once per host (choosing Python runs it). */
  private binaryFor(runtime: string): NodeBinary {
    const python = runtimeKind(runtime) === 'python';
    if (!python && this.options.nodeBinary !== undefined) return this.options.nodeBinary;
    let binary = this.binaries.get(runtime);
    if (binary === undefined) {
      const env = this.options.hostEnv ?? process.env;
      binary = python ? choosePythonBinary(runtime, env) : chooseNodeBinary(runtime, env);
      this.binaries.set(runtime, binary);
    }
    return binary;
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.options.warn?.(message);
  }
}

/** What Lambda answers when a function is at its concurrency limit. */
function throttled(requestId: string): InvokeOutcome {
  return {
    ok: false,
    requestId,
    cause: 'throttled',
    error: { errorType: 'TooManyRequestsException', errorMessage: 'Rate Exceeded.' },
    durationMs: 0,
    billedMs: 0,
    maxMemoryMb: 0,
    logs: [],
  };
}
