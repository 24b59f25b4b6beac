/**
 * Functions on a `provided*` runtime (a custom runtime: any language, any binary) are not
 * bundled: their `code` folder is the artifact, zipped as it is. Lambda starts such a function
 * by running the executable `bootstrap` at the root of the zip
 * (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StagecraftError } from '../errors.js';
import { sha256Hex } from '../digest.js';
import { compareCodeUnits } from './order.js';
import { normalMode, type ZipEntry } from './zip.js';

export function isProvidedRuntime(runtime: string): boolean {
  return runtime.startsWith('provided');
}

export function isNodeRuntime(runtime: string): boolean {
  return runtime.startsWith('nodejs');
}

export interface CodeFolder {
  entries: ZipEntry[];
  /** Path → sha256 and mode of every file: the cache compares this whole listing. */
  fingerprints: Record<string, string>;
}

export function readCodeFolder(appDir: string, functionName: string, code: string | undefined): CodeFolder {
  if (code === undefined) {
    throw new StagecraftError(
      'BUILD_FAILED',
      `Function "${functionName}" runs on a provided runtime but names no code folder.`,
      {
        hint: `Set functions.${functionName}.code to a folder holding an executable bootstrap.`,
      },
    );
  }
  const root = resolve(appDir, code);
  if (!isDirectory(root)) {
    throw new StagecraftError('BUILD_FAILED', `Function "${functionName}": code folder ${code} does not exist.`, {
      hint: `Create ${code} with an executable bootstrap, or fix functions.${functionName}.code.`,
    });
  }
  const entries: ZipEntry[] = [];
  walk(root, '', entries);
  const bootstrap = entries.find((entry) => entry.path === 'bootstrap');
  if (bootstrap === undefined || normalMode(bootstrap.mode) !== 0o755) {
    const problem = bootstrap === undefined ? 'has no bootstrap file' : 'has a bootstrap that is not executable';
    throw new StagecraftError('BUILD_FAILED', `Function "${functionName}": code folder ${code} ${problem}.`, {
      hint: `Lambda starts a provided runtime by running bootstrap: add ${join(code, 'bootstrap')} and chmod +x it.`,
    });
  }
  const fingerprints: Record<string, string> = {};
  for (const entry of entries)
    fingerprints[entry.path] = `${sha256Hex(entry.data)}:${normalMode(entry.mode).toString(8)}`;
  return { entries, fingerprints };
}

/** Every file under `dir`, following symlinks (the zip holds what they point at), sorted. */
function walk(dir: string, prefix: string, into: ZipEntry[]): void {
  const names = readdirSync(dir).sort(compareCodeUnits);
  for (const name of names) {
    const path = join(dir, name);
    const stats = statSync(path);
    const entryPath = prefix === '' ? name : `${prefix}/${name}`;
    if (stats.isDirectory()) walk(path, entryPath, into);
    else if (stats.isFile()) into.push({ path: entryPath, data: readFileSync(path), mode: stats.mode });
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
