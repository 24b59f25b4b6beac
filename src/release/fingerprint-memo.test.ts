import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../digest.js';
import type { FileFingerprint } from './cache.js';
import { FingerprintMemo } from './fingerprint-memo.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A folder with one file, and a reader that counts how often it is asked to read. */
function setup(): { file: string; memoFile: string; reads: string[]; read: (path: string) => FileFingerprint } {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-memo-'));
  dirs.push(dir);
  const file = join(dir, 'a.ts');
  writeFileSync(file, 'export const a = 1;\n');
  const reads: string[] = [];
  const read = (path: string): FileFingerprint => {
    reads.push(path);
    const text = `${path}:${statSync(path).size}`;
    return { sha256: sha256Hex(text), size: statSync(path).size };
  };
  return { file, memoFile: join(dir, 'memo', '.fingerprints.json'), reads, read };
}

/** A clock a minute ahead: every file looks long settled. */
const later = (): number => Date.now() + 60_000;

describe('FingerprintMemo', () => {
  it('does not read again a file whose status is the one remembered by an earlier build', () => {
    const { file, memoFile, reads, read } = setup();
    const first = new FingerprintMemo(memoFile, later);
    const fingerprint = first.fingerprint(file, read);
    first.save();
    const second = new FingerprintMemo(memoFile, later);
    expect(second.fingerprint(file, read)).toEqual(fingerprint);
    expect(reads).toHaveLength(1);
  });

  it('reads again a file written since, even with its modification time put back', () => {
    const { file, memoFile, reads, read } = setup();
    const { atime, mtime } = statSync(file);
    const first = new FingerprintMemo(memoFile, later);
    first.fingerprint(file, read);
    first.save();
    writeFileSync(file, 'export const a = 2;\n');
    utimesSync(file, atime, mtime);
    new FingerprintMemo(memoFile, later).fingerprint(file, read);
    expect(reads).toHaveLength(2);
  });

  /** A build that asks about `files` and saves what it learned; `now` is its clock. */
  const buildWith = (
    memoFile: string,
    files: string[],
    read: (path: string) => FileFingerprint,
    now?: () => number,
  ) => {
    const memo = new FingerprintMemo(memoFile, now);
    for (const path of files) memo.fingerprint(path, read);
    memo.save();
  };

  it('leaves the file as it was when it learned nothing to trust, and writes it once it does', () => {
    const { file, memoFile, reads, read } = setup();
    const other = join(file, '..', 'b.ts');
    writeFileSync(other, 'export const b = 1;\n');
    buildWith(memoFile, [file, other], read, later);
    const written = readFileSync(memoFile, 'utf8');
    // An edit, built at once: read again, too fresh to trust, so nothing new to remember.
    writeFileSync(file, 'export const a = 2;\n');
    buildWith(memoFile, [file, other], read);
    expect(readFileSync(memoFile, 'utf8')).toBe(written);
    // Its old entry does not match its new status: read again, now settled, and remembered.
    buildWith(memoFile, [file, other], read, later);
    expect(reads).toEqual([file, other, file, file]);
    new FingerprintMemo(memoFile, later).fingerprint(file, read);
    expect(reads).toHaveLength(4);
  });

  it('forgets the files a build no longer asks about', () => {
    const { file, memoFile, reads, read } = setup();
    const other = join(file, '..', 'b.ts');
    writeFileSync(other, 'export const b = 1;\n');
    buildWith(memoFile, [file, other], read, later);
    buildWith(memoFile, [file], read, later);
    expect(Object.keys(JSON.parse(readFileSync(memoFile, 'utf8')).files)).toEqual([file]);
    expect(reads).toEqual([file, other]);
  });

  it('does not trust a file hashed within moments of its last change', () => {
    const { file, memoFile, reads, read } = setup();
    const first = new FingerprintMemo(memoFile);
    first.fingerprint(file, read);
    first.save();
    new FingerprintMemo(memoFile, later).fingerprint(file, read);
    expect(reads).toHaveLength(2);
  });
});
