/**
 * Rotating snapshots of the state database under `.stagecraft/backups/`, taken with SQLite's
 * online backup API (https://www.sqlite.org/backup.html: a consistent copy while others read and
 * write) and verified with `PRAGMA integrity_check` before they count. The newest 20 are kept.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { StagecraftError } from '../errors.js';
import { Database } from './sqlite.js';

export const BACKUPS_KEPT = 20;

export interface BackupInfo {
  file: string;
  takenAt: string;
  reason: string;
  bytes: number;
}

export function backupsDir(statePath: string): string {
  return join(dirname(statePath), 'backups');
}

/** Whether a database file opens and passes `PRAGMA integrity_check`; the first problem otherwise. */
export function verifyDatabase(file: string): { ok: true } | { ok: false; problem: string } {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const rows = db.pragma('integrity_check') as { integrity_check: string }[];
      const first = rows[0]?.integrity_check ?? 'no answer';
      if (first !== 'ok') return { ok: false, problem: first };
      const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
      return tables.n > 0 ? { ok: true } : { ok: false, problem: 'it holds no tables' };
    } finally {
      db.close();
    }
  } catch (error) {
    return { ok: false, problem: (error as Error).message };
  }
}

/** Every backup, newest first (not verified: `newestGood` does that). */
export function listBackups(statePath: string): BackupInfo[] {
  const dir = backupsDir(statePath);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /^state-.+\.db$/.test(name))
    .sort()
    .reverse()
    .map((name) => {
      const file = join(dir, name);
      const [, stamp = '', reason = ''] = /^state-(\d{8}T\d{9}Z)(?:-\d+)?-(.+)\.db$/.exec(name) ?? [];
      return { file, takenAt: fromStamp(stamp), reason, bytes: statSync(file).size };
    });
}

/** The newest backup that passes its integrity check, if any. */
export function newestGoodBackup(statePath: string): BackupInfo | undefined {
  return listBackups(statePath).find((backup) => verifyDatabase(backup.file).ok);
}

/** Takes a verified snapshot of `db` (the open state database) and drops the oldest beyond the kept number. */
export async function takeBackup(db: Database, statePath: string, reason: string, now: Date): Promise<BackupInfo> {
  const dir = backupsDir(statePath);
  mkdirSync(dir, { recursive: true });
  const stamp = toStamp(now);
  const tag = reason.replace(/[^a-z0-9-]+/gi, '-').slice(0, 40) || 'manual';
  let file = join(dir, `state-${stamp}-${tag}.db`);
  for (let n = 1; existsSync(file); n++) file = join(dir, `state-${stamp}-${n}-${tag}.db`);
  const partial = `${file}.partial`;
  try {
    await db.backup(partial);
    const verdict = verifyDatabase(partial);
    if (!verdict.ok)
      throw new StagecraftError(
        'STATE_FAILED',
        `the backup of ${statePath} failed its integrity check: ${verdict.problem}`,
        { hint: 'run `stagecraft doctor`' },
      );
    renameSync(partial, file);
  } finally {
    rmSync(partial, { force: true });
  }
  for (const old of listBackups(statePath).slice(BACKUPS_KEPT)) rmSync(old.file, { force: true });
  return { file, takenAt: now.toISOString(), reason: tag, bytes: statSync(file).size };
}

/**
 * Puts a backup in place of the state database. What is replaced is kept beside the backups
 * (`replaced-….db`), never deleted: a restore must not lose the only copy of anything.
 */
export function restoreBackup(
  statePath: string,
  from: string | undefined,
  now: Date,
): { restored: BackupInfo; replaced?: string } {
  const chosen = from === undefined ? newestGoodBackup(statePath) : describe(resolve(from));
  if (!chosen) {
    throw new StagecraftError('ARGUMENT_INVALID', `there is no good backup in ${backupsDir(statePath)}`, {
      hint: 'name one with --from FILE',
    });
  }
  const verdict = verifyDatabase(chosen.file);
  if (!verdict.ok)
    throw new StagecraftError('ARGUMENT_INVALID', `${chosen.file} is not a good state backup: ${verdict.problem}`, {
      hint: '`stagecraft state list` shows the backups and which are good',
    });
  mkdirSync(backupsDir(statePath), { recursive: true });
  let replaced: string | undefined;
  if (existsSync(statePath)) {
    replaced = join(backupsDir(statePath), `replaced-${toStamp(now)}.db`);
    renameSync(statePath, replaced);
  }
  for (const side of ['-wal', '-shm', '-journal']) {
    if (existsSync(statePath + side)) {
      if (replaced) renameSync(statePath + side, replaced + side);
      else rmSync(statePath + side, { force: true });
    }
  }
  copyFileSync(chosen.file, statePath);
  return { restored: chosen, ...(replaced ? { replaced } : {}) };
}

function describe(file: string): BackupInfo {
  if (!existsSync(file))
    throw new StagecraftError('ARGUMENT_INVALID', `${file} does not exist`, {
      hint: '`stagecraft state list` shows the backups',
    });
  const [, stamp = '', reason = 'file'] = /^state-(\d{8}T\d{9}Z)(?:-\d+)?-(.+)\.db$/.exec(basename(file)) ?? [];
  return {
    file,
    takenAt: stamp ? fromStamp(stamp) : statSync(file).mtime.toISOString(),
    reason,
    bytes: statSync(file).size,
  };
}

/** 2026-12-03T16:40:00.123Z → 20261203T164000123Z: sorts as it reads, and is a safe file name. */
function toStamp(date: Date): string {
  return date.toISOString().replace(/[-:.]/g, '');
}

function fromStamp(stamp: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/.exec(stamp);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z` : stamp;
}
