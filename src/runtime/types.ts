/**
 * The shapes the runtime folder speaks in: what to run (a function version), how to invoke it,
 * and what came of it. Kept free of behaviour so every other file can import them.
 */
import type { SandboxChoice } from './sandbox.js';
import type { SpareRuntime } from './spare-runtime.js';

/** One published function version, resolved: everything an execution environment needs. */
export interface FunctionSpec {
  functionName: string;
  /** `$LATEST` or a published version number, as `AWS_LAMBDA_FUNCTION_VERSION` shows it. */
  version: string;
  /** The ARN callers use by default (an alias ARN for `live`/`smoke`); each invoke may override it. */
  invokedArn: string;
  /** The unpacked code: `LAMBDA_TASK_ROOT` and the child's working directory. */
  codeDir: string;
  /** `src/api.handler` for Node runtimes; passed as `_HANDLER` to `provided*` bootstraps. */
  handler: string;
  /** AWS runtime name: `nodejs22.x`, `nodejs24.x`, `provided.al2023`, … */
  runtime: string;
  memoryMb: number;
  timeoutSec: number;
  /** The function's own variables; they never override the reserved Lambda ones. */
  environment: Record<string, string>;
  region: string;
  /** Secret values in `environment`: masked as `****` in every captured log line and error. */
  redact?: readonly string[];
  /** Size of the private `/tmp` in MB (Lambda's `EphemeralStorage`); default 512. */
  ephemeralStorageMb?: number;
}

/**
 * A function error as Lambda returns it to a synchronous caller. The Node runtime reports `trace`;
 * custom runtimes following the Runtime API docs send `stackTrace`; either is kept as sent.
 */
export interface LambdaError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
  stackTrace?: string[];
  /** The Python runtime names the invocation in its error documents, as awslambdaric does. */
  requestId?: string;
}

/**
 * Where a failed invocation failed: the handler reported an error, the platform timed it out, the
 * runtime process died mid-invocation, the environment never finished its init phase, or the
 * function was at its concurrency limit with a full queue and the invocation never ran.
 */
export type FailureCause = 'handler' | 'timeout' | 'exit' | 'init' | 'throttled';

interface OutcomeCommon {
  requestId: string;
  durationMs: number;
  billedMs: number;
  /** Only on the first (cold) invocation of an environment. */
  initDurationMs?: number;
  maxMemoryMb: number;
  /** Everything the function printed plus Lambda's START / END / REPORT lines, in order. */
  logs: string[];
}

export type InvokeOutcome =
  | (OutcomeCommon & { ok: true; /** the raw JSON text the function returned */ payload: string })
  | (OutcomeCommon & { ok: false; error: LambdaError; cause: FailureCause });

export interface InvokeOptions {
  /** Default: a fresh UUID, as Lambda assigns. */
  requestId?: string;
  /** The ARN the caller used (e.g. with an alias qualifier); default: the spec's `invokedArn`. */
  invokedArn?: string;
  /** Sent as `Lambda-Runtime-Client-Context` (JSON), as a mobile SDK caller would. */
  clientContext?: Record<string, unknown>;
  /** Sent as `Lambda-Runtime-Cognito-Identity` (JSON). */
  identity?: Record<string, unknown>;
  /** X-Ray trace header; default: a fresh unsampled `Root=1-…` header. */
  traceId?: string;
  /**
   * The caller made `payload` with `JSON.stringify` (the gateway does), so it is JSON and the
   * host need not parse it once more to make sure.
   */
  payloadIsJson?: boolean;
}

/** The Node binary (or Python interpreter) a function runs on here, and why it may not be a faithful match. */
export interface NodeBinary {
  path: string;
  /** Set when the runtime's major version is not what the binary provides. */
  warning?: string;
}

/**
 * How a runtime reaches its Runtime API: HTTP on loopback (what every bootstrap speaks), or a pipe
 * our own Node bootstrap can use instead — the same exchanges, several times the throughput.
 * `provided*` runtimes always get HTTP.
 */
export type RuntimeTransport = 'http' | 'pipe';

export interface ExecutionEnvironmentOptions {
  /** Default: chosen with `chooseNodeBinary` from the host environment. Ignored for `provided*`. */
  nodeBinary?: NodeBinary;
  /** `python3.x` runtimes; default: chosen with `choosePythonBinary` from the host environment. */
  pythonBinary?: NodeBinary;
  /** Where PATH, HOME, TMPDIR and `STAGECRAFT_NODE_<major>` are read from; default `process.env`. */
  hostEnv?: NodeJS.ProcessEnv;
  /** Every line as it is written — the function's output and the platform lines — for live tails. */
  onLog?: (line: string) => void;
  /** Called once at start with a message worth showing a person (e.g. the Node version mismatch). */
  warn?: (message: string) => void;
  /** Default `http`. Ignored (always HTTP) for `provided*` runtimes. */
  transport?: RuntimeTransport;
  /** The sandbox available (see sandbox.ts), or its detection under way; default: detected for each environment. */
  sandbox?: SandboxChoice | Promise<SandboxChoice>;
  /** A runtime process booted ahead (spare-runtime.ts) to adopt instead of starting one, if it is still available. */
  spare?: SpareRuntime;
}

export type EnvironmentState = 'new' | 'initializing' | 'ready' | 'busy' | 'dead';
