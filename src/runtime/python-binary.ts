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

/** `major.minor.micro` of an interpreter, or undefined when it cannot be run. */
export function probePythonVersion(path: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    const out = execFileSync(path, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], {
      env: { PATH: env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', ...(env['HOME'] === undefined ? {} : { HOME: env['HOME'] }) },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    });
    return out.trim();
  } catch {
    return undefined;
  }
}

export function choosePythonBinary(
  runtime: string,
  env: NodeJS.ProcessEnv = process.env,
  probe: (path: string) => string | undefined = (path) => probePythonVersion(path, env),
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
  const hostVersion = probe('python3');
  if (hostVersion === undefined) {
    throw new StagecraftError('INVOKE_FAILED', `${runtime} needs a Python interpreter, and python3 cannot be run here.`, {
      hint: `Install Python ${version}, or set ${variable} to the path of one.`,
    });
  }
  if (hostVersion.startsWith(`${version}.`)) return { path: 'python3' };
  return {
    path: 'python3',
    warning: `${runtime} runs on the host's Python ${hostVersion} here; set ${variable} to a Python ${version} interpreter for a faithful match`,
  };
}
