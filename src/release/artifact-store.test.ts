import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../digest.js';
import { StagecraftError } from '../errors.js';
import { ArtifactStore } from './artifact-store.js';
import { deterministicZip } from './zip.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const zip = deterministicZip([
  { path: 'src/api.mjs', data: text('export const handler = async () => 42;\n') },
  { path: 'bin/tool', data: text('#!/bin/sh\n'), mode: 0o755 },
]);

const dirs: string[] = [];
function newStore(): { store: ArtifactStore; appDir: string } {
  const appDir = mkdtempSync(join(tmpdir(), 'stagecraft-store-'));
  dirs.push(appDir);
  return { store: ArtifactStore.forApp(appDir), appDir };
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function caught(run: () => unknown): StagecraftError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StagecraftError);
    return error as StagecraftError;
  }
  throw new Error('expected a StagecraftError');
}

describe('ArtifactStore', () => {
  it('stores a zip under its sha256, once, and never rewrites it', () => {
    const { store, appDir } = newStore();
    const first = store.put(zip);
    expect(first).toEqual({
      sha256: sha256Hex(zip),
      size: zip.length,
      path: join(appDir, '.stagecraft/artifacts', `${sha256Hex(zip)}.zip`),
    });
    expect(store.has(first.sha256)).toBe(true);
    const before = statSync(first.path, { bigint: true });
    expect(store.put(zip)).toEqual(first);
    const after = statSync(first.path, { bigint: true });
    expect([after.ino, after.mtimeNs]).toEqual([before.ino, before.mtimeNs]);
    expect(Number(after.mode) & 0o222).toBe(0);
    // Nothing but the artifact: no temporary file left behind.
    expect(readdirSync(store.artifactsDir)).toEqual([`${first.sha256}.zip`]);
    expect(store.list()).toEqual([first.sha256]);
  });

  it('reads an artifact back after checking its bytes', () => {
    const { store } = newStore();
    const { sha256 } = store.put(zip);
    expect(Buffer.from(store.read(sha256)).equals(Buffer.from(zip))).toBe(true);
  });

  it('detects an artifact whose bytes changed after it was written', () => {
    const { store } = newStore();
    const { sha256, path } = store.put(zip);
    const bytes = readFileSync(path);
    bytes[40] = (bytes[40] ?? 0) ^ 0xff;
    chmodSync(path, 0o644);
    writeFileSync(path, bytes);
    const error = caught(() => store.read(sha256));
    expect(error.code).toBe('ARTIFACT_CORRUPT');
    expect(error.message).toContain(path);
    expect(error.hint).toContain('stagecraft build');
    // Nor is corrupt code ever unpacked for the runtime.
    expect(caught(() => store.extract(sha256)).code).toBe('ARTIFACT_CORRUPT');
  });

  it('refuses a put whose name is taken by a file of another size', () => {
    const { store } = newStore();
    const { path } = store.put(zip);
    chmodSync(path, 0o644);
    writeFileSync(path, 'short');
    expect(caught(() => store.put(zip)).code).toBe('ARTIFACT_CORRUPT');
  });

  it('reports a missing artifact and a malformed name', () => {
    const { store } = newStore();
    const missing = caught(() => store.read('0'.repeat(64)));
    expect([missing.code, missing.message]).toEqual(['ARTIFACT_CORRUPT', expect.stringContaining('missing')]);
    expect(caught(() => store.has('../../etc/passwd')).code).toBe('ARTIFACT_CORRUPT');
  });

  it('extracts an artifact once into code/<sha256>, keeping the executable bit', () => {
    const { store, appDir } = newStore();
    const { sha256 } = store.put(zip);
    const dir = store.extract(sha256);
    expect(dir).toBe(join(appDir, '.stagecraft/code', sha256));
    expect(readFileSync(join(dir, 'src/api.mjs'), 'utf8')).toContain('42');
    // Unpacked read-only (a tree nobody edits in place), the executable bit kept.
    expect(statSync(join(dir, 'bin/tool')).mode & 0o777).toBe(0o555);
    expect(statSync(join(dir, 'src/api.mjs')).mode & 0o777).toBe(0o444);
    const inode = statSync(join(dir, 'src/api.mjs')).ino;
    expect(store.extract(sha256)).toBe(dir);
    expect(statSync(join(dir, 'src/api.mjs')).ino).toBe(inode);
    expect(readdirSync(store.codeDir)).toEqual([sha256, `${sha256}.tree`]);
    expect(existsSync(join(store.codeDir, sha256, 'bin'))).toBe(true);
  });
});
