/**
 * Local execution environments that run function versions the way AWS Lambda does: a separate
 * runtime process per environment speaking the real Lambda Runtime API (over loopback HTTP, or
 * a pipe for our own Node bootstrap), and the warm pool that runs many of them for `stagecraft up`.
 */
import { ExecutionEnvironment } from './execution-environment.js';
import type { ExecutionEnvironmentOptions, FunctionSpec, InvokeOptions, InvokeOutcome } from './types.js';

export { ExecutionEnvironment } from './execution-environment.js';
export { RuntimeHost, type FunctionStats, type HostedFunction, type RuntimeHostOptions, type WarmUp } from './host.js';
export {
  FileLogSink,
  formatLogRecord,
  logDir,
  logFile,
  rotatedLogFile,
  type FileLogSinkOptions,
  type LogRecord,
  type LogSink,
} from './log-sink.js';
export { followLog, parseLogLine, readLogTail, type LogEntry, type LogPosition } from './log-reader.js';
export { chooseNodeBinary, nodeMajorOf } from './node-binary.js';
export {
  choosePythonBinary,
  isPythonRuntime,
  probePython,
  pythonVersionOf,
  type PythonProbe,
} from './python-binary.js';
export {
  ASYNC_PAYLOAD_LIMIT,
  assertPayloadSize,
  oversize,
  SYNC_PAYLOAD_LIMIT,
  type InvocationKind,
} from './payload-limits.js';
export {
  DEFAULT_EPHEMERAL_MB,
  detectSandbox,
  sandboxKind,
  sandboxNotice,
  type SandboxChoice,
  type SandboxKind,
} from './sandbox.js';
export { createRedactor, redactError, secretForms, MASK, type Redact } from './redact.js';
export type {
  EnvironmentState,
  ExecutionEnvironmentOptions,
  FailureCause,
  FunctionSpec,
  InvokeOptions,
  InvokeOutcome,
  LambdaError,
  NodeBinary,
  RuntimeTransport,
} from './types.js';

export type InvokeOnceOptions = ExecutionEnvironmentOptions & InvokeOptions;

/**
 * A cold start, one invocation, and a clean stop: what `stagecraft invoke` does. `payload` is the
 * event as JSON text. HTTP by default: a single invocation gains nothing from the pipe.
 */
export async function invokeOnce(
  spec: FunctionSpec,
  payload: string,
  options: InvokeOnceOptions = {},
): Promise<InvokeOutcome> {
  const environment = new ExecutionEnvironment(spec, options);
  try {
    return await environment.invoke(payload, options);
  } finally {
    await environment.stop();
  }
}
