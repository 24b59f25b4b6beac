import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { StagecraftError } from '../errors.js';
import { deterministicZip, unzipTo, type ZipEntry } from './zip.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

const entries: ZipEntry[] = [
  { path: 'src/api.mjs', data: text('export const handler = () => 1;\n') },
  { path: 'bootstrap', data: text('#!/bin/sh\necho hi\n'), mode: 0o700 },
  { path: 'src/api.mjs.map', data: text('{"version":3}') },
];

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-zip-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function withTimeZone<T>(zone: string, run: () => T): T {
  const before = process.env.TZ;
  // Node re-reads the zone when TZ is assigned, so Date's local-time getters follow it at once.
  process.env.TZ = zone;
  try {
    return run();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}

function caught(run: () => unknown): StagecraftError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StagecraftError);
    return error as StagecraftError;
  }
  throw new Error('expected a StagecraftError');
}

describe('deterministicZip', () => {
  it('gives the same bytes whatever the order of the entries', () => {
    const reversed = deterministicZip([...entries].reverse());
    expect(Buffer.from(deterministicZip(entries)).equals(Buffer.from(reversed))).toBe(true);
  });

  it('gives the same bytes in every time zone, dated 1980-01-01 00:00', () => {
    const offset = (): number => new Date(Date.UTC(2024, 0, 1)).getTimezoneOffset();
    const east = withTimeZone('Pacific/Kiritimati', () => ({ offset: offset(), zip: deterministicZip(entries) }));
    const west = withTimeZone('America/Los_Angeles', () => ({ offset: offset(), zip: deterministicZip(entries) }));
    // UTC+14 and UTC-8: the zones really were in force.
    expect([east.offset, west.offset]).toEqual([-840, 480]);
    expect(Buffer.from(east.zip).equals(Buffer.from(west.zip))).toBe(true);
    // The first local header: DOS time at offset 10, DOS date at 12 (APPNOTE 4.4.6).
    const view = new DataView(west.zip.buffer, west.zip.byteOffset, west.zip.byteLength);
    expect(view.getUint16(10, true)).toBe(0);
    expect(view.getUint16(12, true)).toBe((0 << 9) | (1 << 5) | 1);
  });

  it('keeps only two modes: 0o755 for anything executable, 0o644 for the rest', () => {
    const dir = tempDir();
    unzipTo(deterministicZip([...entries, { path: 'lib/tool', data: text('x'), mode: 0o100 }]), dir);
    expect(statSync(join(dir, 'bootstrap')).mode & 0o777).toBe(0o755);
    expect(statSync(join(dir, 'lib/tool')).mode & 0o777).toBe(0o755);
    expect(statSync(join(dir, 'src/api.mjs')).mode & 0o777).toBe(0o644);
  });

  it('refuses paths that are absolute, climb out or repeat', () => {
    for (const path of ['/etc/passwd', '../up.txt', 'a/./b', 'a\\b']) {
      expect(caught(() => deterministicZip([{ path, data: text('x') }])).code).toBe('BUILD_FAILED');
    }
    const twice = caught(() =>
      deterministicZip([
        { path: 'a', data: text('1') },
        { path: 'a', data: text('2') },
      ]),
    );
    expect(twice.message).toContain('listed twice');
  });
});

describe('unzipTo', () => {
  it('writes every file with its content', () => {
    const dir = tempDir();
    unzipTo(deterministicZip(entries), dir);
    expect(readdirSync(dir).sort()).toEqual(['bootstrap', 'src']);
    expect(readdirSync(join(dir, 'src')).sort()).toEqual(['api.mjs', 'api.mjs.map']);
  });

  it('refuses a zip with an entry escaping the folder, writing nothing (zip slip)', () => {
    const parent = tempDir();
    const dir = join(parent, 'out');
    for (const name of ['../evil.txt', 'ok/../../evil.txt', '/tmp/evil.txt']) {
      const zip = zipSync({ 'fine.txt': text('fine'), [name]: text('evil') });
      const error = caught(() => unzipTo(zip, dir, { name: 'evil.zip' }));
      expect(error.code).toBe('ARTIFACT_CORRUPT');
      expect(error.message).toContain('evil.zip');
      expect(error.message).toContain(name);
      expect(existsSync(join(parent, 'evil.txt'))).toBe(false);
      expect(existsSync(join(dir, 'fine.txt'))).toBe(false);
    }
  });

  it('refuses bytes that are not a zip', () => {
    expect(caught(() => unzipTo(text('not a zip at all, not even close'), tempDir())).code).toBe('ARTIFACT_CORRUPT');
  });
});
