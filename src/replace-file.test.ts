import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { replaceCacheFile, replaceFile } from './replace-file.js';

describe('replaceFile', () => {
  const dirs: string[] = [];
  const fresh = () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagecraft-replace-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('creates the folder, replaces the file whole and leaves no temporary file beside it', () => {
    const dir = fresh();
    const file = join(dir, 'cache', 'entry.json');
    replaceFile(file, 'one');
    replaceFile(file, 'two');
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(readdirSync(join(dir, 'cache'))).toEqual(['entry.json']);
  });

  it('throws when the file cannot be replaced and leaves nothing behind; replaceCacheFile lets it be', () => {
    const dir = fresh();
    const file = join(dir, 'taken');
    mkdirSync(join(file, 'inside'), { recursive: true }); // a folder that is not empty: rename fails
    expect(() => replaceFile(file, 'text')).toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
    expect(() => replaceCacheFile(file, 'text')).not.toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
  });
});
