import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKUPS_KEPT, listBackups, newestGoodBackup, verifyDatabase } from './backups.js';
import { StateStore } from './store.js';

describe('state backups', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the newest 20 verified snapshots, newest first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagecraft-backups-'));
    dirs.push(dir);
    let now = Date.parse('2026-01-01T00:00:00Z');
    const store = StateStore.open(join(dir, 'state.db'), { now: () => new Date(now) });
    try {
      for (let index = 0; index < BACKUPS_KEPT + 3; index++) {
        now += 1_000;
        await store.backup(`step-${index}`);
      }
    } finally {
      store.close();
    }
    const backups = listBackups(join(dir, 'state.db'));
    expect(backups).toHaveLength(BACKUPS_KEPT);
    expect(backups[0]?.reason).toBe(`step-${BACKUPS_KEPT + 2}`);
    expect(backups.at(-1)?.reason).toBe('step-3');
    expect(backups.every((backup) => verifyDatabase(backup.file).ok)).toBe(true);
    expect(newestGoodBackup(join(dir, 'state.db'))?.file).toBe(backups[0]?.file);
  });
});
