/**
 * The environment variables a function sees: Lambda's defined runtime variables, then the
 * function's own, then the reserved ones Lambda never lets a function override. Nothing else of
 * the host's environment goes in — Stagecraft's own secrets must not reach user code — apart from
 * PATH, HOME and TMPDIR, which a local process needs to find its tools.
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
 */
import { randomBytes } from 'node:crypto';
import { delimiter, dirname } from 'node:path';
import type { FunctionSpec } from './types.js';

export interface EnvironmentPlaces {
  /** `host:port` of this environment's Runtime API server. */
  runtimeApi: string;
  /** The folder of our bootstrap: what `/var/runtime` is on AWS. */
  runtimeDir: string;
  logStreamName: string;
  /** The Node binary for Node runtimes (its folder leads PATH, like /var/lang/bin on AWS). */
  nodeBinary?: string;
  /** Python runtimes: the folder of our Python bootstrap, on PYTHONPATH as /var/runtime is on AWS. */
  pythonRuntimeDir?: string;
  hostEnv: NodeJS.ProcessEnv;
}

export function isProvidedRuntime(runtime: string): boolean {
  return runtime === 'provided' || runtime.startsWith('provided.');
}

export function logGroupName(functionName: string): string {
  return `/aws/lambda/${functionName}`;
}

/** `2024/05/17/[$LATEST]` + 32 hex digits: one stream per execution environment, as on AWS. */
export function newLogStreamName(version: string, now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[${version}]${randomBytes(16).toString('hex')}`;
}

export function lambdaEnvironment(spec: FunctionSpec, places: EnvironmentPlaces): Record<string, string> {
  const host = places.hostEnv;
  const hostPath = host['PATH'] ?? '/usr/local/bin:/usr/bin:/bin';
  // Defaults a function may change (AWS lists these as not reserved).
  const defaults: Record<string, string> = {
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    PATH: places.nodeBinary === undefined ? hostPath : `${dirname(places.nodeBinary)}${delimiter}${hostPath}`,
  };
  if (places.nodeBinary !== undefined) defaults['NODE_PATH'] = [places.runtimeDir, spec.codeDir].join(delimiter);
  if (places.pythonRuntimeDir !== undefined) defaults['PYTHONPATH'] = places.pythonRuntimeDir;
  for (const name of ['HOME', 'TMPDIR'] as const) {
    const value = host[name];
    if (value !== undefined) defaults[name] = value;
  }

  // Reserved: Lambda rejects a function configuration that sets them, so here they always win.
  // The credential variables are reserved on AWS too, but locally there is no execution role: the
  // caller passes whatever the local services accept through `environment`.
  const reserved: Record<string, string> = {
    _HANDLER: spec.handler,
    AWS_REGION: spec.region,
    AWS_DEFAULT_REGION: spec.region,
    AWS_LAMBDA_FUNCTION_NAME: spec.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: spec.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMb),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: logGroupName(spec.functionName),
    AWS_LAMBDA_LOG_STREAM_NAME: places.logStreamName,
    AWS_LAMBDA_RUNTIME_API: places.runtimeApi,
    LAMBDA_TASK_ROOT: spec.codeDir,
    LAMBDA_RUNTIME_DIR: places.pythonRuntimeDir ?? places.runtimeDir,
  };
  // OS-only runtimes (provided*) have no AWS_EXECUTION_ENV on AWS.
  if (!isProvidedRuntime(spec.runtime)) reserved['AWS_EXECUTION_ENV'] = `AWS_Lambda_${spec.runtime}`;

  // Lambda sets the trace id per invocation (the runtime exports it); a stale one must not leak in.
  const { _X_AMZN_TRACE_ID: _ignored, ...own } = spec.environment;
  return { ...defaults, ...own, ...reserved };
}
