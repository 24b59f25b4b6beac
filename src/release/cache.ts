/**
 * The build cache: a function whose inputs have not changed is not bundled again. One JSON file
 * per function under `<app>/.stagecraft/cache/` records what its artifact was built from; the
 * next build reuses the artifact when all of that still holds. Only content counts (sha256),
 * never file times, so a checkout or a `touch` does not rebuild and an edit always does.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { sha256Hex, stableStringify } from '../digest.js';
import { replaceFile } from '../replace-file.js';
import type { FingerprintMemo } from './fingerprint-memo.js';

/** Bump when the artifact layout or this file's format changes: every cached entry is then stale. */
export const BUILD_FORMAT = 1;

/**
 * Files outside the bundle that still change it: dependency versions (package.json, lock
 * files; also the `type` field that decides whether a .js file is ESM) and TypeScript's
 * settings, which esbuild reads but does not list among the inputs of its metafile.
 */
export const CONTEXT_FILES = [
  'package.json',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lock',
  'bun.lockb',
  'tsconfig.json',
] as const;

export interface FileFingerprint {
  sha256: string;
  size: number;
}

/**
 * Hashes each file once per build, however many functions import it: 50 functions sharing one
 * `node_modules` tree read it once. One instance per build, so a later build sees new content —
 * unless, like `dev`, the caller knows what changed and says so with `forget`. With a memo
 * (src/release/fingerprint-memo.ts), a file unchanged since an earlier build is not read at all.
 */
export class FileHasher {
  private readonly seen = new Map<string, FileFingerprint | null>();
  /** App folder and input as esbuild names it → absolute path: fifty functions name one input fifty times. */
  private readonly paths = new Map<string, string>();

  constructor(private readonly memo?: FingerprintMemo) {}

  /** The fingerprint of an input named relative to the app, as the metafile names it. */
  input(appDir: string, path: string): FileFingerprint | null {
    const key = `${appDir}\0${path}`;
    let absolute = this.paths.get(key);
    if (absolute === undefined) {
      absolute = inputPath(appDir, path);
      this.paths.set(key, absolute);
    }
    return this.fingerprint(absolute);
  }

  /** sha256 and size of the file, or null when it cannot be read (deleted, a folder). */
  fingerprint(path: string): FileFingerprint | null {
    let known = this.seen.get(path);
    if (known === undefined) {
      known = this.memo ? this.memo.fingerprint(path, readFingerprint) : readFingerprint(path);
      this.seen.set(path, known);
    }
    return known;
  }

  /** Remembers what this build hashed for the next one (with a memo). */
  save(): void {
    this.memo?.save();
  }

  /** The file changed: the next fingerprint reads it again. */
  forget(path: string): void {
    this.seen.delete(path);
  }

  /** Path (relative to `appDir`) → sha256 for every context file, null where there is none. */
  context(appDir: string): Record<string, string | null> {
    const context: Record<string, string | null> = {};
    for (const name of CONTEXT_FILES) context[name] = this.fingerprint(join(appDir, name))?.sha256 ?? null;
    return context;
  }
}

function readFingerprint(path: string): FileFingerprint | null {
  try {
    const bytes = readFileSync(path);
    return { sha256: sha256Hex(bytes), size: bytes.length };
  } catch {
    return null;
  }
}

export interface CacheEntry {
  format: number;
  /** sha256 of everything but files that decides the output: handler, runtime, bundler, options. */
  key: string;
  /** Every file the artifact was built from, relative to the app → its fingerprint. */
  inputs: Record<string, string>;
  /** Files that shape the build without being in it (CONTEXT_FILES) → sha256 or null if absent. */
  context: Record<string, string | null>;
  artifact: { sha256: string; size: number };
}

/** The cache key of a build description: any change to it means a rebuild. */
export function cacheKey(description: Record<string, unknown>): string {
  return sha256Hex(stableStringify({ format: BUILD_FORMAT, ...description }));
}

export class BuildCache {
  constructor(readonly dir: string) {}

  static forApp(appDir: string): BuildCache {
    return new BuildCache(join(appDir, '.stagecraft', 'cache'));
  }

  /** Where the files' fingerprints are remembered between builds; no function's name starts with a dot. */
  get fingerprintsFile(): string {
    return join(this.dir, '.fingerprints.json');
  }

  /** Every Node function's entry in one file (src/release/cache-index.ts). */
  get indexFile(): string {
    return join(this.dir, '.index.json');
  }

  private fileOf(functionName: string): string {
    return join(this.dir, `${encodeURIComponent(functionName)}.json`);
  }

  /** The recorded entry when it has this key, else undefined (absent, stale or unreadable). */
  load(functionName: string, key: string): CacheEntry | undefined {
    let entry: unknown;
    try {
      entry = JSON.parse(readFileSync(this.fileOf(functionName), 'utf8'));
    } catch {
      return undefined;
    }
    return isEntry(entry) && entry.format === BUILD_FORMAT && entry.key === key ? entry : undefined;
  }

  /** Replaces the entry in one rename, so a reader never sees half of it. */
  save(functionName: string, entry: CacheEntry): void {
    replaceFile(this.fileOf(functionName), JSON.stringify(entry));
  }
}

/**
 * The absolute path of an input esbuild names relative to the app (`src/api.ts`, `../lib/x.ts`):
 * resolve() only where the path climbs out, as the check of every input of every function is
 * otherwise mostly resolve()'s own work. Equal to resolve(appDir, path) for esbuild's paths.
 */
export function inputPath(appDir: string, path: string): string {
  return path.startsWith('../') || isAbsolute(path) ? resolve(appDir, path) : `${appDir}/${path}`;
}

/** Whether every input and context file of `entry` still has the content it had. */
export function inputsUnchanged(appDir: string, entry: CacheEntry, hasher: FileHasher): boolean {
  for (const [path, sha256] of Object.entries(entry.inputs)) {
    if (hasher.input(appDir, path)?.sha256 !== sha256) return false;
  }
  const context = hasher.context(appDir);
  for (const name of CONTEXT_FILES) {
    if ((entry.context[name] ?? null) !== context[name]) return false;
  }
  return true;
}

function isEntry(value: unknown): value is CacheEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Partial<CacheEntry>;
  return (
    typeof entry.format === 'number' &&
    typeof entry.key === 'string' &&
    typeof entry.inputs === 'object' &&
    entry.inputs !== null &&
    typeof entry.context === 'object' &&
    entry.context !== null &&
    typeof entry.artifact?.sha256 === 'string' &&
    typeof entry.artifact.size === 'number'
  );
}
