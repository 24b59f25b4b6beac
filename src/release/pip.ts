/**
 * A function's requirements installed with `pip install --target`, once per requirements content
 * and Python version: the tree is kept under `.stagecraft/cache/python/<key>` and reused by every
 * later build and every function with the same requirements. For the aws provider pip takes only
 * manylinux wheels of the runtime's Python, so native code matches Lambda's.
 * https://docs.aws.amazon.com/lambda/latest/dg/python-package.html#python-package-native-libraries
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { sha256Hex, stableStringify } from '../digest.js';
import { StagecraftError } from '../errors.js';

/** How a build finds Python: passed in by the composition root (the runtime chooses interpreters). */
export interface PythonToolchain {
  /** The interpreter that runs pip for a runtime, and its `major.minor` version. */
  interpreter(runtime: string): { path: string; version: string };
  /** Set for the aws provider: wheels for this platform only (`--only-binary=:all:`). */
  platform?: 'manylinux2014_x86_64';
}

export interface InstalledRequirements {
  /** The installed tree. */
  dir: string;
  /** Part of the function's cache key: requirements content, Python version, platform. */
  key: string;
}

/** The key of an install, computed without installing (a cached function never runs pip). */
export function requirementsKey(
  appDir: string,
  requirements: string,
  runtime: string,
  toolchain: PythonToolchain,
): string {
  const content = readRequirements(appDir, requirements);
  const runtimeVersion = runtime.replace(/^python/, '');
  // With --platform pip resolves for the runtime's version; without, for the interpreter's.
  const python = toolchain.platform === undefined ? toolchain.interpreter(runtime).version : runtimeVersion;
  return sha256Hex(
    stableStringify({ requirements: sha256Hex(content), python, platform: toolchain.platform ?? 'host' }),
  );
}

export async function installRequirements(
  appDir: string,
  functionName: string,
  requirements: string,
  runtime: string,
  toolchain: PythonToolchain,
): Promise<InstalledRequirements> {
  const key = requirementsKey(appDir, requirements, runtime, toolchain);
  const dir = join(appDir, '.stagecraft', 'cache', 'python', key);
  if (existsSync(dir)) return { dir, key };
  const temp = `${dir}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  mkdirSync(temp, { recursive: true });
  const file = resolve(appDir, requirements);
  const args = [
    '-m',
    'pip',
    'install',
    '--target',
    temp,
    '--requirement',
    file,
    '--no-compile',
    '--disable-pip-version-check',
    '--no-input',
    '--quiet',
  ];
  if (toolchain.platform !== undefined) {
    args.push(
      '--platform',
      toolchain.platform,
      '--only-binary=:all:',
      '--implementation',
      'cp',
      '--python-version',
      runtime.replace(/^python/, ''),
    );
  }
  try {
    // From the requirements file's folder, so that relative paths in it (--find-links wheels/) mean the same anywhere.
    await promisify(execFile)(toolchain.interpreter(runtime).path, args, {
      cwd: dirname(file),
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PIP_NO_WARN_SCRIPT_LOCATION: '1' },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    const stderr = String((error as { stderr?: unknown }).stderr ?? (error as Error).message)
      .trim()
      .split('\n')
      .slice(-6)
      .join('\n');
    throw new StagecraftError(
      'BUILD_FAILED',
      `Function "${functionName}": pip could not install ${requirements}:\n${stderr}`,
      {
        hint: 'Check the requirements (and for the aws provider, that every package has a manylinux2014_x86_64 wheel); pip reads PIP_INDEX_URL / PIP_FIND_LINKS.',
        cause: error,
      },
    );
  }
  try {
    renameSync(temp, dir);
  } catch {
    rmSync(temp, { recursive: true, force: true }); // another build installed the same key first
  }
  return { dir, key };
}

function readRequirements(appDir: string, requirements: string): Buffer {
  try {
    return readFileSync(resolve(appDir, requirements));
  } catch (error) {
    throw new StagecraftError('BUILD_FAILED', `The requirements file ${requirements} cannot be read.`, {
      hint: 'Fix the requirements path in stagecraft.yml, or create the file.',
      cause: error,
    });
  }
}
