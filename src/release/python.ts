/**
 * Python functions are not bundled: their source folder (filtered by `package` globs) plus the
 * dependencies of their requirements file, installed with `pip install --target`, make the
 * artifact. Nothing of this machine may reach the zip: no .pyc, no console scripts (their shebang
 * names this interpreter), no direct_url.json, no RECORD line pointing outside the artifact.
 * https://docs.aws.amazon.com/lambda/latest/dg/python-package.html
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import picomatch from 'picomatch';
import { sha256Hex } from '../digest.js';
import { StagecraftError } from '../errors.js';
import { parsePythonHandler, pythonHandlerProblem } from '../manifest/index.js';
import { compareCodeUnits } from './order.js';
import type { ZipEntry } from './zip.js';

/** Left out of every Python artifact unless `package.include` names them again. */
export const DEFAULT_EXCLUDES = [
  '**/__pycache__/**',
  '**/*.pyc',
  '**/*.pyo',
  '**/.venv/**',
  '**/venv/**',
  '**/.tox/**',
  '**/.pytest_cache/**',
  '**/.mypy_cache/**',
  '**/tests/**',
  '**/test/**',
  '**/test_*.py',
  '**/*_test.py',
  '**/conftest.py',
  '.git/**',
  '.stagecraft/**',
  'node_modules/**',
  'stagecraft.yml',
  '.gitignore',
];

export interface PythonPackage {
  include?: string[] | undefined;
  exclude?: string[] | undefined;
}

export interface PythonSourceFolder {
  /** The source folder relative to the app (`.` for the app itself). */
  root: string;
  entries: ZipEntry[];
  /** Path → sha256 and mode of every file: the cache compares this whole listing. */
  fingerprints: Record<string, string>;
}

/** The function's own files, checked for its handler, as they go into the artifact. */
export function readPythonSource(
  appDir: string,
  functionName: string,
  handler: string,
  code: string | undefined,
  pkg: PythonPackage | undefined,
): PythonSourceFolder {
  const root = code ?? '.';
  const dir = resolve(appDir, root);
  const problem = pythonHandlerProblem(dir, root, handler);
  if (problem !== undefined) {
    throw new StagecraftError('BUILD_FAILED', `Function "${functionName}": handler "${handler}": ${problem}.`, {
      hint: `Fix functions.${functionName}.handler (module.function, relative to ${root}), or add the module.`,
    });
  }
  const included = picomatch(pkg?.include ?? ['**'], { dot: true });
  const excluded = picomatch([...(pkg?.include === undefined ? DEFAULT_EXCLUDES : []), ...(pkg?.exclude ?? [])], {
    dot: true,
  });
  const entries: ZipEntry[] = [];
  walk(dir, '', (path, full, mode) => {
    if (included(path) && !excluded(path)) entries.push({ path, data: readFileSync(full), mode });
  });
  const fingerprints: Record<string, string> = {};
  for (const entry of entries)
    fingerprints[entry.path] = `${sha256Hex(entry.data)}:${(entry.mode ?? 0) & 0o111 ? 'x' : '-'}`;
  return { root, entries, fingerprints };
}

/** The requirements file of a function, relative to the app, or undefined when it has none. */
export function findRequirements(
  appDir: string,
  root: string,
  handler: string,
  explicit: string | undefined,
): string | undefined {
  if (explicit !== undefined) return explicit;
  const module = parsePythonHandler(handler)?.module ?? '';
  const beside = posix.join(root, posix.dirname(module.replaceAll('.', '/')), 'requirements.txt');
  for (const candidate of [beside, posix.join(root, 'requirements.txt')]) {
    if (isFile(join(appDir, candidate))) return candidate;
  }
  return undefined;
}

/**
 * The files of an installed dependency tree, cleaned of what names this machine. A virtualenv
 * (a folder with pyvenv.cfg) is never walked into.
 */
export function dependencyEntries(dir: string): ZipEntry[] {
  const entries: ZipEntry[] = [];
  walk(dir, '', (path, full, mode) => {
    if (
      path.startsWith('bin/') ||
      /(^|\/)__pycache__\/|\.py[co]$/.test(path) ||
      path.endsWith('.dist-info/direct_url.json')
    )
      return;
    let data: Uint8Array = readFileSync(full);
    if (/\.dist-info\/RECORD$/.test(path)) data = Buffer.from(portableRecord(Buffer.from(data).toString('utf8')));
    entries.push({ path, data, mode });
  });
  return entries;
}

/** RECORD without the lines of files left out above or outside the artifact (`../../bin/x`). */
function portableRecord(text: string): string {
  const lines = text.split('\n').filter((line) => {
    const path = line.split(',')[0] ?? '';
    return (
      path !== '' &&
      !path.startsWith('/') &&
      !path.startsWith('../') &&
      !/(^|\/)__pycache__\/|\.py[co]$|direct_url\.json$/.test(path)
    );
  });
  return lines
    .sort(compareCodeUnits)
    .map((line) => `${line}\n`)
    .join('');
}

function walk(dir: string, prefix: string, visit: (path: string, full: string, mode: number) => void): void {
  const names = readdirSync(dir).sort(compareCodeUnits);
  if (prefix !== '' && names.includes('pyvenv.cfg')) return;
  for (const name of names) {
    const full = join(dir, name);
    const stats = statSync(full, { throwIfNoEntry: false });
    const path = prefix === '' ? name : `${prefix}/${name}`;
    if (stats?.isDirectory()) walk(full, path, visit);
    else if (stats?.isFile()) visit(path, full, stats.mode);
  }
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}
