/**
 * Local execution environments that run function versions the way AWS Lambda does: a separate
 * runtime process per environment speaking the real Lambda Runtime API over loopback HTTP.
 */
import { ExecutionEnvironment } from './execution-environment.js';
import type { ExecutionEnvironmentOptions, FunctionSpec, InvokeOptions, InvokeOutcome } from './types.js';

export { ExecutionEnvironment } from './execution-environment.js';
export { chooseNodeBinary, nodeMajorOf } from './node-binary.js';
export type {
  EnvironmentState,
  ExecutionEnvironmentOptions,
  FailureCause,
  FunctionSpec,
  InvokeOptions,
  InvokeOutcome,
  LambdaError,
  NodeBinary,
} from './types.js';

export type InvokeOnceOptions = ExecutionEnvironmentOptions & InvokeOptions;

/**
 * A cold start, one invocation, and a clean stop: what `stagecraft invoke` does. `payload` is the
 * event as JSON text.
 */
export async function invokeOnce(spec: FunctionSpec, payload: string, options: InvokeOnceOptions = {}): Promise<InvokeOutcome> {
  const environment = new ExecutionEnvironment(spec, options);
  try {
    return await environment.invoke(payload, options);
  } finally {
    await environment.stop();
  }
}
