/**
 * How a runtime process is started: the command (our Node or Python bootstrap on its
 * interpreter, or the function's own `bootstrap`), the variables it gets, and the sandbox around
 * it. One recipe for an execution environment started with its code and for a spare started
 * before it has any (spare-runtime.ts).
 */
import { accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import { lambdaEnvironment } from './lambda-environment.js';
import { PIPE_FD, PIPE_FD_VARIABLE } from './runtime-api-pipe.js';
import { NODE_BOOTSTRAP, PYTHON_BOOTSTRAP, runtimeCommand, type RuntimeKind } from './runtime-command.js';
import { DEFAULT_EPHEMERAL_MB, sandboxed, sandboxKind, type SandboxChoice, type SandboxKind } from './sandbox.js';
import type { FunctionSpec, NodeBinary } from './types.js';

export interface LaunchContext {
  kind: RuntimeKind;
  /** The Node binary or Python interpreter; undefined for `provided*`. */
  binary: NodeBinary | undefined;
  choice: SandboxChoice;
  /** `host:port` of the environment's Runtime API server. */
  runtimeApi: string;
  logStreamName: string;
  hostEnv: NodeJS.ProcessEnv;
  /** Our Node bootstrap speaks the Runtime API over an inherited pipe (runtime-api-pipe.ts). */
  usePipe: boolean;
}

export interface LaunchPlan {
  command: string;
  args: string[];
  env: Record<string, string>;
  /** How the function is isolated (see sandbox.ts). */
  sandbox: SandboxKind;
  /** The variables the sandbox sets (TMPDIR), already in `env`. */
  sandboxEnv: Record<string, string>;
  /** The process is bwrap with a PID namespace of its own: tearing it down needs no search of /proc. */
  pidNamespace: boolean;
  /** Cleans up after the sandbox once the process is gone. */
  dispose(): void;
}

/** The folder of our bootstrap for each runtime kind: `/var/runtime` on AWS. */
function runtimeDirOf(kind: RuntimeKind): string {
  return dirname(kind === 'python' ? PYTHON_BOOTSTRAP : NODE_BOOTSTRAP);
}

/** The function's variables for this launch (lambda-environment.ts), without the sandbox's. */
export function launchEnvironment(spec: FunctionSpec, context: LaunchContext): Record<string, string> {
  const { kind, binary } = context;
  return lambdaEnvironment(spec, {
    runtimeApi: context.runtimeApi,
    runtimeDir: dirname(NODE_BOOTSTRAP),
    logStreamName: context.logStreamName,
    hostEnv: context.hostEnv,
    ...(kind === 'node' && binary !== undefined ? { nodeBinary: binary.path } : {}),
    ...(kind === 'python' ? { pythonRuntimeDir: dirname(PYTHON_BOOTSTRAP) } : {}),
  });
}

export function planLaunch(spec: FunctionSpec, context: LaunchContext): LaunchPlan {
  const { kind, binary, choice } = context;
  const env = launchEnvironment(spec, context);
  if (context.usePipe) env[PIPE_FD_VARIABLE] = String(PIPE_FD);
  const plain = runtimeCommand(spec.codeDir, spec.memoryMb, binary?.path, kind);
  const sandbox = sandboxKind(choice, kind === 'node');
  // A `bootstrap` that cannot run is reported as Lambda does (Runtime.InvalidEntrypoint): spawned as it is, it fails so.
  const runnable = kind !== 'provided' || isExecutable(plain.command);
  const confinement = runnable ? sandbox : 'none';
  const wrapped = sandboxed(confinement, choice, plain, {
    codeDir: spec.codeDir,
    runtimeDir: runtimeDirOf(kind),
    interpreter: binary?.path,
    ephemeralMb: spec.ephemeralStorageMb ?? DEFAULT_EPHEMERAL_MB,
  });
  Object.assign(env, wrapped.env);
  return {
    command: wrapped.command,
    args: wrapped.args,
    env,
    sandbox,
    sandboxEnv: wrapped.env,
    pidNamespace: confinement === 'bwrap' && choice.bwrap !== undefined,
    dispose: wrapped.dispose,
  };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
