/**
 * Which Python runs a `python3.x` function, by the rule Node's follows (node-binary.ts): an explicit
 * interpreter of the right minor version from `STAGECRAFT_PYTHON_3_<minor>`, otherwise the host's
 * `python3`, with a warning when its minor version differs from the runtime's.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { StagecraftError } from '../errors.js';
import type { NodeBinary } from './types.js';

/** `3.12` for `python3.12`. */
export function pythonVersionOf(runtime: string): string | undefined {
  return /^python(3\.\d+)$/.exec(runtime)?.[1];
}

export function isPythonRuntime(runtime: string): boolean {
  return pythonVersionOf(runtime) !== undefined;
}

/** The variable that names a faithful interpreter for a runtime: `STAGECRAFT_PYTHON_3_12`. */
export function pythonVariable(version: string): string {
  return `STAGECRAFT_PYTHON_${version.replace('.', '_')}`;
}

export interface PythonProbe {
  /** `major.minor.micro`. */
  version: string;
  /** `sys.executable`: the interpreter itself, past any launcher shim (pyenv's costs ~2 s a start here). */
  executable: string;
}

/** The version and real path of an interpreter, or undefined when it cannot be run. */
export function probePython(path: string, env: NodeJS.ProcessEnv = process.env): PythonProbe | undefined {
  try {
    const out = execFileSync(
      path,
      ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3]); print(sys.executable)'],
      {
        env: {
          PATH: env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
          ...(env['HOME'] === undefined ? {} : { HOME: env['HOME'] }),
        },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 10_000,
      },
    );
    const [version, executable] = out.trim().split('\n');
    if (version === undefined || executable === undefined || executable === '') return undefined;
    return { version, executable };
  } catch {
    return undefined;
  }
}

export function choosePythonBinary(
  runtime: string,
  env: NodeJS.ProcessEnv = process.env,
  probe: (path: string) => PythonProbe | undefined = (path) => probePython(path, env),
): NodeBinary {
  const version = pythonVersionOf(runtime);
  if (version === undefined) {
    throw new StagecraftError('ARGUMENT_INVALID', `"${runtime}" is not a Python runtime.`, {
      hint: 'Use an AWS Python runtime name such as python3.12.',
    });
  }
  const variable = pythonVariable(version);
  const explicit = env[variable];
  if (explicit !== undefined && explicit !== '') {
    if (!existsSync(explicit)) {
      throw new StagecraftError('ARGUMENT_INVALID', `${variable} points to ${explicit}, which does not exist.`, {
        hint: `Set ${variable} to the path of a Python ${version} interpreter, or unset it to use the host's python3.`,
      });
    }
    return { path: explicit };
  }
  const host = probe('python3');
  if (host === undefined) {
    throw new StagecraftError(
      'INVOKE_FAILED',
      `${runtime} needs a Python interpreter, and python3 cannot be run here.`,
      {
        hint: `Install Python ${version}, or set ${variable} to the path of one.`,
      },
    );
  }
  if (host.version.startsWith(`${version}.`)) return { path: host.executable };
  return {
    path: host.executable,
    warning: `${runtime} runs on the host's Python ${host.version} here; set ${variable} to a Python ${version} interpreter for a faithful match`,
  };
}
