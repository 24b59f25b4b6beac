/** Files other processes read while one writes them: a reader sees the old file or the new one, never half. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Writes `text` beside `file` under a name of its own, then renames it over `file` (creating its folder). */
export function replaceFile(file: string, text: string): void {
  const temp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(temp, text);
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** replaceFile for a cache, which only saves time: one that cannot be written is left as it was. */
export function replaceCacheFile(file: string, text: string): void {
  try {
    replaceFile(file, text);
  } catch {
    // the next run reads the sources again
  }
}
