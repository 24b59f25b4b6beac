/**
 * An execution environment: one runtime process for one function version plus the Runtime API it
 * talks to, reused for sequential invocations as Lambda reuses a warm environment. It dies the
 * way Lambda's do — on a timeout, when the runtime exits, after a failed init — and a dead one is
 * never revived: whoever pools environments starts a new one.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 *
 * The Runtime API is always served over HTTP on loopback (`AWS_LAMBDA_RUNTIME_API` is real);
 * with `transport: 'pipe'` our Node bootstrap speaks it over an inherited pipe instead.
 */
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { StagecraftError } from '../errors.js';
import { newRequestId, newTraceId } from './ids.js';
import { InitPhase } from './init-phase.js';
import { assertJson, Invocation, type InvocationResult } from './invocation.js';
import { newLogStreamName } from './lambda-environment.js';
import { launchEnvironment, planLaunch, type LaunchContext } from './launch-plan.js';
import { chooseNodeBinary } from './node-binary.js';
import { LogRouter } from './log-router.js';
import { OutputBarrier } from './output-barrier.js';
import { OutputLines } from './output-lines.js';
import { exitError, invalidEntrypointError, outOfMemoryError, timeoutError } from './platform-report.js';
import { assertPayloadSize } from './payload-limits.js';
import { PeakMemory } from './process-memory.js';
import { createRedactor, redactError, type Redact } from './redact.js';
import { RuntimeApi, type Invocation as ApiInvocation, type RuntimeApiListener } from './runtime-api.js';
import { RuntimeApiPipe } from './runtime-api-pipe.js';
import { RuntimeApiServer } from './runtime-api-server.js';
import { choosePythonBinary } from './python-binary.js';
import { entrypointProblem, runtimeKind, type RuntimeKind } from './runtime-command.js';
import { spawnRuntime, type RuntimeProcess, type RuntimeProcessEvents } from './runtime-process.js';
import { firstUnwrapped } from './process-tree.js';
import { detectSandbox, sandboxKind, sandboxNotice, type SandboxKind } from './sandbox.js';
import type {
  EnvironmentState,
  ExecutionEnvironmentOptions,
  FunctionSpec,
  InvokeOptions,
  InvokeOutcome,
  LambdaError,
  RuntimeTransport,
} from './types.js';

/** Lambda gives the init phase 10 s before it moves the rest of init into the first invocation. */
const INIT_LIMIT_MS = 10_000;
const MEMORY_SAMPLE_MS = 100;
/**
 * At the end of an invocation the peak is read again unless it was read this recently. The
 * high-water mark loses nothing in between; back-to-back invocations of a few milliseconds each
 * may report a peak up to this old, which spares a /proc read per invocation at thousands a second.
 */
const SETTLE_SAMPLE_AGE_MS = 20;

export class ExecutionEnvironment {
  private stateNow: EnvironmentState = 'new';
  private starting: Promise<void> | undefined;
  private readonly api: RuntimeApi;
  private server: RuntimeApiServer | undefined;
  private pipe: RuntimeApiPipe | undefined;
  private runtime: RuntimeProcess | undefined;
  private memory: PeakMemory | undefined;
  private readonly init = new InitPhase();
  private readonly logs: LogRouter;
  private readonly output = new OutputBarrier();
  /** Masks the version's secret values in what it prints and the errors it reports. */
  private readonly redact: Redact;
  private current: Invocation | undefined;
  /** The invocation the timeout and memory timer watches (see `watch`). */
  private watching: Invocation | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  /** The timer for the last stretch of a timeout shorter than `tickMs`. */
  private lastTick: NodeJS.Timeout | undefined;
  private readonly tickMs: number;
  private maxMemoryMb = 0;
  private sampledAt = Number.NEGATIVE_INFINITY;
  private stopRequested = false;
  /** The runtime went over `memoryMb` and was killed for it. */
  private outOfMemory = false;
  private sandbox: SandboxKind = 'none';
  private disposeSandbox: () => void = () => undefined;
  private spawnError: StagecraftError | undefined;
  /** Set when this environment killed its runtime (a timeout, an init error, a stop, memory). */
  private killedHere = false;
  readonly logStreamName: string;

  constructor(
    readonly spec: FunctionSpec,
    private readonly options: ExecutionEnvironmentOptions = {},
  ) {
    this.logStreamName = newLogStreamName(spec.version);
    this.tickMs = Math.min(MEMORY_SAMPLE_MS, spec.timeoutSec * 1000);
    this.logs = new LogRouter(options.onLog);
    this.redact = createRedactor(spec.redact ?? []);
    this.api = new RuntimeApi(this.listener());
  }

  /** How the runtime reaches its Runtime API: only our Node bootstrap speaks the pipe; every other uses HTTP. */
  get transport(): RuntimeTransport {
    return this.kind === 'node' ? (this.options.transport ?? 'http') : 'http';
  }

  private get kind(): RuntimeKind {
    return runtimeKind(this.spec.runtime);
  }

  get state(): EnvironmentState {
    return this.stateNow;
  }

  /** How the runtime process is isolated (known once it has started). */
  get sandboxKind(): SandboxKind {
    return this.sandbox;
  }

  /** Why the init phase failed, once it has; undefined otherwise. */
  get initError(): LambdaError | undefined {
    return this.stateNow === 'dead' ? this.init.failure?.('') : undefined;
  }

  /** The runtime process id, while there is one. */
  get pid(): number | undefined {
    return this.runtime?.pid;
  }

  /**
   * Starts the runtime and waits for its init phase: until it first asks for an invocation, reports
   * an init error or dies — or 10 s, after which the first invocation waits for the rest.
   * Problems of the function itself do not throw: the next `invoke` reports them, as Lambda does.
   */
  start(): Promise<void> {
    this.starting ??= this.launch();
    return this.starting;
  }

  /**
   * Runs one invocation. `payload` is the event as JSON text, as Lambda's Invoke API takes it; it
   * reaches the runtime byte for byte.
   */
  async invoke(payload: string, options: InvokeOptions = {}): Promise<InvokeOutcome> {
    assertPayloadSize(payload, 'sync');
    assertJson(payload);
    return this.invokeChecked(payload, options);
  }

  /**
   * `invoke` for a caller that has already made sure `payload` is JSON (RuntimeHost does);
   * `invokedArn` overrides both `options.invokedArn` and the spec's.
   */
  invokeChecked(payload: string, options: InvokeOptions = {}, invokedArn?: string): Promise<InvokeOutcome> {
    // A warm environment goes on at once, without an async function's extra turns of the microtask queue.
    if (this.stateNow !== 'ready') return this.start().then(() => this.deliver(payload, options, invokedArn));
    try {
      return this.deliver(payload, options, invokedArn);
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  private deliver(payload: string, options: InvokeOptions, invokedArn: string | undefined): Promise<InvokeOutcome> {
    if (this.current !== undefined) {
      throw new StagecraftError('INVOKE_FAILED', `The execution environment of ${this.spec.functionName} is busy.`, {
        hint: 'An environment runs one invocation at a time; wait for the previous one or use another environment.',
      });
    }
    const diedInInit = this.stateNow === 'dead' && this.init.failure !== undefined;
    if (this.stateNow === 'dead' && !diedInInit) {
      throw new StagecraftError('INVOKE_FAILED', `The execution environment of ${this.spec.functionName} has ended.`, {
        hint: 'Start a new execution environment.',
      });
    }
    const requestId = options.requestId ?? newRequestId();
    let resolveOutcome: (outcome: InvokeOutcome) => void = () => undefined;
    const outcome = new Promise<InvokeOutcome>((resolve) => {
      resolveOutcome = resolve;
    });
    const invocation = new Invocation(requestId, resolveOutcome);
    this.current = invocation;
    if (diedInInit) {
      this.settle(invocation, this.init.result(requestId));
      return outcome;
    }
    if (this.stateNow === 'ready') this.stateNow = 'busy';
    const timeoutMs = this.spec.timeoutSec * 1000;
    this.watch(invocation);
    const now = Date.now();
    const delivery: ApiInvocation = {
      requestId,
      payload,
      deadlineMs: now + timeoutMs,
      invokedFunctionArn: invokedArn ?? options.invokedArn ?? this.spec.invokedArn,
      traceId: options.traceId ?? newTraceId(now),
    };
    if (options.clientContext !== undefined) delivery.clientContext = JSON.stringify(options.clientContext);
    if (options.identity !== undefined) delivery.cognitoIdentity = JSON.stringify(options.identity);
    this.api.deliver(delivery);
    return outcome;
  }

  /**
   * Enforces the timeout and samples memory while an invocation runs, on one timer per
   * environment, re-armed (`refresh`) for each invocation rather than made anew: most invocations
   * end before it first fires, and one that fires with nothing running does nothing.
   */
  private watch(invocation: Invocation): void {
    this.watching = invocation;
    if (this.watchTimer === undefined) this.watchTimer = setTimeout(() => this.tick(), this.tickMs);
    else this.watchTimer.refresh();
  }

  private unwatch(invocation: Invocation): void {
    if (this.watching === invocation) this.watching = undefined;
    clearTimeout(this.lastTick);
  }

  private tick(): void {
    const invocation = this.watching;
    if (invocation === undefined) return;
    // Timers may fire a fraction of a millisecond early by the clock durations are measured with;
    // re-arm for what is left so a timed-out invocation never reports less than its timeout.
    const left = this.spec.timeoutSec * 1000 - (performance.now() - invocation.invokedAt);
    if (left <= 0) {
      this.timeOut(invocation);
      return;
    }
    this.sampleMemory();
    if (left >= this.tickMs) this.watchTimer?.refresh();
    else this.lastTick = setTimeout(() => this.tick(), Math.ceil(left));
  }

  /** Kills the runtime (and anything it started) and closes the Runtime API. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    if (this.starting === undefined) {
      this.stateNow = 'dead';
      return;
    }
    this.kill();
    await this.starting.catch(() => undefined);
    await this.runtime?.closed;
    this.pipe?.close();
    await this.server?.close();
    this.server = undefined;
  }

  private async launch(): Promise<void> {
    this.stateNow = 'initializing';
    try {
      await this.spawnAndInit();
    } catch (error) {
      this.stateNow = 'dead';
      throw error;
    } finally {
      // A spare handed over but not adopted (stopped first, or gone wrong before) is nobody's: it goes.
      if (this.options.spare?.available === true) void this.options.spare.stop();
    }
  }

  private async spawnAndInit(): Promise<void> {
    const { spec } = this;
    if (!existsSync(spec.codeDir)) {
      throw new StagecraftError('INVOKE_FAILED', `The code folder ${spec.codeDir} does not exist.`, {
        hint: 'Build the release again, or check where its artifacts were unpacked.',
      });
    }
    const kind = this.kind;
    const provided = kind === 'provided';
    const binary =
      kind === 'node'
        ? (this.options.nodeBinary ?? chooseNodeBinary(spec.runtime, this.hostEnv))
        : kind === 'python'
          ? (this.options.pythonBinary ?? choosePythonBinary(spec.runtime, this.hostEnv))
          : undefined;
    if (binary?.warning !== undefined) this.options.warn?.(binary.warning);

    // The sandbox's detection may still be under way (RuntimeHost starts it): it overlaps the listen.
    const [server, choice] = await Promise.all([
      RuntimeApiServer.listen(this.api),
      this.options.sandbox ?? detectSandbox(this.hostEnv),
    ]);
    this.server = server;
    if (this.stopRequested) {
      this.stateNow = 'dead';
      return;
    }
    const context: LaunchContext = {
      kind,
      binary,
      choice,
      runtimeApi: this.server.address,
      logStreamName: this.logStreamName,
      hostEnv: this.hostEnv,
      usePipe: this.transport === 'pipe',
    };
    const marker = `AWS_LAMBDA_LOG_STREAM_NAME=${this.logStreamName}`;
    const stdout = new OutputLines((line) => this.logs.capture(this.redact(line), this.current));
    const stderr = new OutputLines((line) => this.logs.capture(this.redact(line), this.current));
    const events: RuntimeProcessEvents = {
      stdout: (chunk) => {
        stdout.push(chunk);
        this.output.counted(0, chunk);
      },
      stderr: (chunk) => {
        stderr.push(chunk);
        this.output.counted(1, chunk);
      },
      spawnFailed: (error) => this.spawnFailed(error, command, provided, kind),
      closed: (code, signal) => {
        stdout.flush();
        stderr.flush();
        this.output.release();
        this.disposeSandbox();
        this.closed(code, signal);
      },
    };
    let command: string;
    const spare = this.options.spare;
    // A spare booted before the sandbox's trial answered (early-spares.ts) is used only in the sandbox it found.
    const adopt =
      spare?.available === true && context.usePipe && spare.sandbox === sandboxKind(choice, kind === 'node');
    if (spare !== undefined && !adopt) void spare.stop();
    if (spare !== undefined && adopt) {
      // The process is up already (spare-runtime.ts): it gets the code and the variables, and init begins.
      command = binary?.path ?? '';
      this.sandbox = spare.sandbox;
      this.disposeSandbox = () => spare.release();
      const env = { ...launchEnvironment({ ...spec, codeDir: spare.slot }, context), ...spare.sandboxEnv };
      this.init.begin();
      this.runtime = spare.adopt(spec.codeDir, env, events, marker);
    } else {
      const plan = planLaunch(spec, context);
      command = plan.command;
      this.sandbox = plan.sandbox;
      this.disposeSandbox = plan.dispose;
      this.init.begin();
      this.runtime = spawnRuntime(
        plan.command,
        plan.args,
        { cwd: spec.codeDir, env: plan.env, apiPipe: context.usePipe, marker, pidNamespace: plan.pidNamespace },
        events,
      );
    }
    const notice = sandboxNotice(this.sandbox, spec.runtime);
    if (notice !== undefined) this.options.warn?.(notice);
    if (this.runtime.apiPipe !== undefined) this.pipe = new RuntimeApiPipe(this.runtime.apiPipe, this.api);
    // Inside bwrap the runtime is a grandchild: its memory is found once it asks for work (listener.next).
    if (this.runtime.pid !== undefined && this.sandbox !== 'bwrap') this.memory = new PeakMemory(this.runtime.pid);
    await this.init.wait(INIT_LIMIT_MS);
    if (this.spawnError !== undefined) throw this.spawnError;
  }

  private spawnFailed(error: NodeJS.ErrnoException, command: string, provided: boolean, kind: RuntimeKind): void {
    if (!provided) {
      const what = kind === 'python' ? 'Python' : 'Node';
      this.spawnError = new StagecraftError('INVOKE_FAILED', `Could not start ${what} (${command}): ${error.message}`, {
        hint:
          kind === 'python'
            ? 'Check STAGECRAFT_PYTHON_3_<minor>, or that python3 is on PATH.'
            : 'Check STAGECRAFT_NODE_<major>, or the Node installation.',
        cause: error,
      });
      return;
    }
    const detail = entrypointProblem(error, command);
    this.init.failure = (requestId) => invalidEntrypointError(requestId, detail);
  }

  private listener(): RuntimeApiListener {
    return {
      next: () => {
        if (this.stateNow !== 'initializing') return;
        if (this.memory === undefined && this.runtime?.pid !== undefined) {
          const inner = firstUnwrapped(this.runtime.pid, 'bwrap');
          if (inner !== undefined) this.memory = new PeakMemory(inner);
        }
        this.sampleMemory();
        this.stateNow = this.current === undefined ? 'ready' : 'busy';
        this.init.end();
      },
      delivered: (invocation, before) => {
        const current = this.current;
        if (current?.requestId !== invocation.requestId) return;
        const begin = (): void => {
          if (current.settled || current.started) return;
          this.logs.emit(current.begin(this.logs.takePending(), this.spec.version));
        };
        // Lines written before the event went out belong before START. Our bootstrap says how
        // much it had written when it asked: once that is read, START goes now. Otherwise those
        // lines may still be in the pipe, read in this turn of the event loop: START waits for the next.
        if (before !== undefined && this.output.reached(before)) begin();
        else setImmediate(begin);
      },
      response: (requestId, payload, output) =>
        this.output.after(output, (complete) => this.settleCurrent(requestId, { ok: true, payload }, complete)),
      responseTooLarge: (requestId, bytes) =>
        this.settleCurrent(requestId, {
          ok: false,
          cause: 'handler',
          error: {
            errorType: 'Function.ResponseSizeTooLarge',
            errorMessage: `Response payload size (${bytes} bytes) exceeded maximum allowed payload size (6291556 bytes).`,
          },
        }),
      error: (requestId, error, output) =>
        this.output.after(output, (complete) =>
          this.settleCurrent(
            requestId,
            { ok: false, error: redactError(error, this.redact), cause: 'handler' },
            complete,
          ),
        ),
      initError: (error) => {
        this.sampleMemory();
        const masked = redactError(error, this.redact);
        this.init.failure = () => masked;
        // Lambda shuts a runtime down after its init error; the outcome follows once it is gone.
        this.kill();
      },
    };
  }

  /** `outputRead`: all the output the runtime wrote before its result has been read. */
  private settleCurrent(requestId: string, result: InvocationResult, outputRead = false): void {
    const current = this.current;
    if (current?.requestId === requestId) this.settle(current, result, outputRead);
  }

  /**
   * Ends an invocation. Unless all output the runtime wrote before its result is known to be
   * read (our bootstrap says how much there was), the outcome is built one event-loop turn later,
   * so that output already in the pipe is read and counted in.
   */
  private settle(invocation: Invocation, result: InvocationResult, outputRead = false): void {
    if (invocation.settled) return;
    invocation.settled = true;
    invocation.markEnded();
    this.unwatch(invocation);
    if (outputRead) this.finish(invocation, result);
    else setImmediate(() => this.finish(invocation, result));
  }

  private finish(invocation: Invocation, result: InvocationResult): void {
    this.sampleMemory(SETTLE_SAMPLE_AGE_MS);
    // Over the limit before it answered: on Lambda it would have been killed instead.
    const killed = this.outOfMemory && !(result.ok === false && result.cause === 'timeout');
    const initDurationMs = this.init.takeColdDuration();
    if (!invocation.started) invocation.preLogs = this.logs.takePending();
    const lines = invocation.settle(killed ? this.outOfMemoryResult(invocation) : result, {
      version: this.spec.version,
      memoryMb: this.spec.memoryMb,
      maxMemoryMb: killed ? this.spec.memoryMb : this.maxMemoryMb,
      initDurationMs,
    });
    for (const line of lines) this.logs.emit(line);
    if (this.current === invocation) this.current = undefined;
    if (this.stateNow === 'busy') this.stateNow = 'ready';
  }

  private timeOut(invocation: Invocation): void {
    if (invocation.settled) return;
    invocation.timedOut = true;
    invocation.markEnded();
    this.api.abandon();
    this.kill();
  }

  /** The runtime is gone and its output fully read. */
  private closed(code: number | null, signal: NodeJS.Signals | null): void {
    const duringInit = this.stateNow === 'initializing';
    this.stateNow = 'dead';
    this.api.abandon();
    this.memory?.close();
    clearTimeout(this.watchTimer);
    if (duringInit) {
      this.init.failure ??= (requestId) =>
        this.outOfMemory ? outOfMemoryError(requestId) : exitError(requestId, code, signal);
      this.init.end();
    }
    const invocation = this.current;
    if (invocation === undefined || invocation.settled) return;
    if (this.outOfMemory && !invocation.timedOut) {
      this.settle(invocation, this.outOfMemoryResult(invocation));
    } else if (invocation.timedOut) {
      const error = timeoutError(invocation.requestId, this.spec.timeoutSec);
      this.settle(invocation, { ok: false, error, cause: 'timeout', status: { kind: 'timeout' } });
    } else if (this.outOfMemory || (this.kind === 'python' && signal === 'SIGKILL' && !this.killedHere)) {
      // Killed over the memory limit: by us (see sampleMemory), or by the Python bootstrap itself on
      // a MemoryError at its address-space backstop; Lambda's cgroup kill reads the same.
      const error = outOfMemoryError(invocation.requestId);
      this.settle(invocation, {
        ok: false,
        error,
        cause: 'exit',
        status: { kind: 'error', errorType: error.errorType },
      });
    } else if (duringInit) {
      this.settle(invocation, this.init.result(invocation.requestId));
    } else {
      const error = exitError(invocation.requestId, code, signal);
      this.settle(invocation, {
        ok: false,
        error,
        cause: 'exit',
        status: { kind: 'error', errorType: error.errorType },
      });
    }
  }

  private kill(): void {
    this.killedHere = true;
    this.runtime?.kill();
  }

  /** At the end of an invocation (see SETTLE_SAMPLE_AGE_MS) and every 100 ms while one runs. */
  private sampleMemory(unlessYoungerThanMs = 0): void {
    const now = performance.now();
    if (now - this.sampledAt < unlessYoungerThanMs) return;
    this.sampledAt = now;
    const peak = this.memory?.read();
    if (peak !== undefined && peak > this.maxMemoryMb) this.maxMemoryMb = peak;
    if (this.maxMemoryMb > this.spec.memoryMb && !this.outOfMemory) {
      // Lambda enforces `memory` on the whole sandbox, not only V8's heap: Buffers and native memory count.
      this.outOfMemory = true;
      this.api.abandon();
      this.kill();
    }
  }

  private outOfMemoryResult(invocation: Invocation): InvocationResult {
    const error = outOfMemoryError(invocation.requestId);
    return { ok: false, error, cause: 'exit', status: { kind: 'error', errorType: error.errorType } };
  }

  private get hostEnv(): NodeJS.ProcessEnv {
    return this.options.hostEnv ?? process.env;
  }
}
