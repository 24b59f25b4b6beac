/**
 * Deterministic zips: the same files always give the same bytes, whatever the machine, the time
 * zone, the file times or the order the files were found in. An artifact is named by the sha256
 * of these bytes (DESIGN §1), so any drift here would split one release into many.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve, sep } from 'node:path';
import type * as Fflate from 'fflate';
import { StagecraftError } from '../errors.js';
import { compareCodeUnits } from './order.js';

export interface ZipEntry {
  /** Relative, with forward slashes: `src/api.mjs`. */
  path: string;
  data: Uint8Array;
  /** Unix permission bits; only "executable or not" is kept (0o755 or 0o644). */
  mode?: number;
}

export const FILE_MODE = 0o644;
export const EXECUTABLE_MODE = 0o755;
/** Regular-file type bits in the high half of the external attributes, as `zip -X` on Unix writes them. */
const S_IFREG = 0o100000;
/** "Made by" host 3 = Unix (APPNOTE 4.4.2.2): Lambda reads permission bits only from such entries. */
const HOST_UNIX = 3;
/** Fixed so the bytes do not depend on a library default that may change. */
const COMPRESSION_LEVEL = 6;

/**
 * fflate, loaded on first use: it takes ~8 ms to load, which every CLI command would pay at
 * start-up, while only building and extracting need it. require() keeps the zip functions
 * synchronous; Node caches the module after the first call.
 */
function fflate(): typeof Fflate {
  return createRequire(import.meta.url)('fflate') as typeof Fflate;
}

/** 0o755 when any execute bit is set, else 0o644: the only two modes an artifact holds. */
export function normalMode(mode: number | undefined): number {
  return mode !== undefined && (mode & 0o111) !== 0 ? EXECUTABLE_MODE : FILE_MODE;
}

export function deterministicZip(entries: readonly ZipEntry[]): Uint8Array {
  return fflate().zipSync(zipPlan(entries));
}

/**
 * The files of a deterministic zip, checked and in order, as fflate's zipSync takes them: a zip
 * pool's worker thread gets this and gives back the same bytes deterministicZip would.
 */
export function zipPlan(entries: readonly ZipEntry[]): Fflate.Zippable {
  // fflate writes DOS time from the local-time getters of `new Date(mtime)`; a date-time string
  // without an offset is read as local time, so it encodes as 1980-01-01 00:00 (the DOS epoch)
  // in every time zone, on whichever thread zips (a worker may see the zone differently).
  const mtime = '1980-01-01T00:00:00';
  const sorted = [...entries].sort((a, b) => compareCodeUnits(a.path, b.path));
  const files: Fflate.Zippable = {};
  let previous: string | undefined;
  for (const entry of sorted) {
    const problem = unsafePathProblem(entry.path);
    if (problem !== undefined) {
      throw new StagecraftError('BUILD_FAILED', `Cannot zip "${entry.path}": ${problem}.`, {
        hint: 'Artifact entries must be relative paths with forward slashes inside the function.',
      });
    }
    if (entry.path === previous) {
      throw new StagecraftError('BUILD_FAILED', `Cannot zip "${entry.path}": it is listed twice.`, {
        hint: 'Give every file of the function one path.',
      });
    }
    previous = entry.path;
    // fflate lists entries in property order, which is insertion order except for paths made
    // only of digits (listed first); that is still the same on every run, so still deterministic.
    files[entry.path] = [
      entry.data,
      { level: COMPRESSION_LEVEL, mtime, os: HOST_UNIX, attrs: (S_IFREG | normalMode(entry.mode)) * 0x10000 },
    ];
  }
  return files;
}

/**
 * One zip from single-entry zips made by the same zipSync, given in the order zipSync lists the
 * entries: the bytes zipSync gives for all of them at once. zipSync writes each entry (its local
 * header and data) the same whatever else the archive holds, so entries can be deflated side by
 * side and put together here; only the central directory's offsets and the end record change.
 * https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT (4.3.12, 4.3.16)
 */
export function joinZips(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  const locals: Uint8Array[] = [];
  const directory: Uint8Array[] = [];
  let offset = 0;
  let entries = 0;
  for (const part of parts) {
    const view = new DataView(part.buffer, part.byteOffset, part.byteLength);
    const end = part.byteLength - END_RECORD_SIZE;
    if (end < 0 || view.getUint32(end, true) !== END_SIGNATURE || view.getUint16(end + 20, true) !== 0)
      throw new Error('joinZips takes zips without a comment, as zipSync writes them');
    const count = view.getUint16(end + 10, true);
    const size = view.getUint32(end + 12, true);
    const start = view.getUint32(end + 16, true);
    const central = part.slice(start, start + size);
    const centralView = new DataView(central.buffer);
    for (let at = 0, seen = 0; seen < count; seen += 1) {
      if (centralView.getUint32(at, true) !== CENTRAL_SIGNATURE)
        throw new Error('joinZips: a broken central directory');
      centralView.setUint32(at + 42, centralView.getUint32(at + 42, true) + offset, true);
      at +=
        46 +
        centralView.getUint16(at + 28, true) +
        centralView.getUint16(at + 30, true) +
        centralView.getUint16(at + 32, true);
    }
    locals.push(part.subarray(0, start));
    directory.push(central);
    offset += start;
    entries += count;
  }
  const directorySize = directory.reduce((sum, part) => sum + part.byteLength, 0);
  if (offset + directorySize > 0xffff_ffff || entries > 0xffff)
    throw new Error('joinZips: too large for a zip without zip64');
  const out = new Uint8Array(offset + directorySize + END_RECORD_SIZE);
  let at = 0;
  for (const part of [...locals, ...directory]) {
    out.set(part, at);
    at += part.byteLength;
  }
  const end = new DataView(out.buffer, at, END_RECORD_SIZE);
  end.setUint32(0, END_SIGNATURE, true);
  end.setUint16(8, entries, true);
  end.setUint16(10, entries, true);
  end.setUint32(12, directorySize, true);
  end.setUint32(16, offset, true);
  return out;
}

const END_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const END_RECORD_SIZE = 22;

export interface UnzipOptions {
  /** Names the zip in error messages, e.g. the artifact's file. */
  name?: string;
}

/**
 * Extracts every file of `zip` under `dir`, keeping the executable bit. Every entry is checked
 * before anything is written, so a zip with one entry escaping `dir` ("zip slip",
 * https://security.snyk.io/research/zip-slip-vulnerability) writes nothing at all.
 */
export function unzipTo(zip: Uint8Array, dir: string, options: UnzipOptions = {}): void {
  const label = options.name ?? 'the zip';
  const modes = readEntryModes(zip, label);
  let files: Record<string, Uint8Array>;
  try {
    files = fflate().unzipSync(zip);
  } catch (error) {
    throw corrupt(label, `it cannot be read as a zip (${(error as Error).message})`, error);
  }
  const root = resolve(dir);
  const targets: { target: string; data: Uint8Array; mode: number }[] = [];
  for (const [name, data] of Object.entries(files)) {
    if (name.endsWith('/')) {
      // A directory entry: its files carry their own paths, so only the name needs checking.
      const problem = unsafePathProblem(name.slice(0, -1));
      if (problem !== undefined) throw slip(label, name, problem);
      continue;
    }
    const problem = unsafePathProblem(name);
    const target = resolve(root, name);
    if (problem !== undefined) throw slip(label, name, problem);
    if (!target.startsWith(root + sep)) throw slip(label, name, `it resolves outside ${root}`);
    targets.push({ target, data, mode: modes.get(name) ?? FILE_MODE });
  }
  const made = new Set<string>();
  for (const { target, data, mode } of targets) {
    const parent = dirname(target);
    if (!made.has(parent)) {
      mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    writeFileSync(target, data, { mode });
    // The umask may have cleared bits of `mode`; the extracted code must match the artifact.
    chmodSync(target, mode);
  }
}

/** Why `path` may not be an entry of an artifact, or undefined when it may. */
function unsafePathProblem(path: string): string | undefined {
  if (path === '') return 'the path is empty';
  if (path.includes('\0')) return 'the path contains a NUL byte';
  if (path.includes('\\')) return 'the path contains a backslash';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'the path is absolute';
  for (const segment of path.split('/')) {
    if (segment === '..') return 'the path climbs out with ".."';
    if (segment === '' || segment === '.') return 'the path has an empty or "." segment';
  }
  return undefined;
}

/**
 * Permission bits per entry name, from the central directory (APPNOTE 4.3.12): fflate's
 * unzipSync does not expose the external attributes, and they carry the executable bit.
 */
function readEntryModes(zip: Uint8Array, label: string): Map<string, number> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = -1;
  // The end record is 22 bytes plus a comment of at most 65,535 bytes, so search only that tail.
  for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 0xffff); at--) {
    if (view.getUint32(at, true) === 0x06054b50) {
      end = at;
      break;
    }
  }
  if (end < 0) throw corrupt(label, 'it has no zip end-of-central-directory record');
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  if (count === 0xffff || at === 0xffffffff)
    throw corrupt(label, 'it is a ZIP64 archive, which Stagecraft never writes');
  const modes = new Map<string, number>();
  for (let index = 0; index < count; index++) {
    if (at + 46 > zip.length || view.getUint32(at, true) !== 0x02014b50) {
      throw corrupt(label, `central directory entry ${index} is damaged`);
    }
    const host = view.getUint8(at + 5);
    const utf8 = (view.getUint16(at + 8, true) & 0x800) !== 0;
    const nameLength = view.getUint16(at + 28, true);
    const skip = view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
    const external = view.getUint32(at + 38, true);
    // Decoded as fflate decodes names (UTF-8 when flagged, else one char per byte), so the keys match.
    const name = Buffer.from(zip.subarray(at + 46, at + 46 + nameLength)).toString(utf8 ? 'utf8' : 'latin1');
    modes.set(name, host === HOST_UNIX ? normalMode(external >>> 16) : FILE_MODE);
    at += 46 + nameLength + skip;
  }
  return modes;
}

function corrupt(label: string, problem: string, cause?: unknown): StagecraftError {
  return new StagecraftError('ARTIFACT_CORRUPT', `Cannot extract ${label}: ${problem}.`, {
    hint: 'Rebuild the artifact with `stagecraft build`; do not edit files under .stagecraft/.',
    cause,
  });
}

function slip(label: string, name: string, problem: string): StagecraftError {
  return new StagecraftError(
    'ARTIFACT_CORRUPT',
    `Refusing to extract ${label}: entry "${name}" is unsafe (${problem}).`,
    {
      hint: 'Only extract zips written by `stagecraft build`; this one may have been tampered with.',
    },
  );
}
