/**
 * The rows behind the promotion lock, each change guarded by the token of the holder it
 * expects, and the one rule by which any lock (SQLite here, DynamoDB for shared state) and
 * `doctor` tell a dead holder: its process gone from this host, or its heartbeat stale.
 */
import type { Database } from 'better-sqlite3';
import { hostname } from 'node:os';
import { StagecraftError } from '../errors.js';
import { StatementCache } from './statements.js';

export interface LockRow {
  name: string;
  /** Random per acquisition: a holder that lost its lock to a takeover can no longer touch it. */
  token: string;
  pid: number;
  host: string;
  operation: string;
  since: string;
  heartbeatAt: string;
}

interface Row {
  name: string;
  token: string;
  pid: number;
  host: string;
  operation: string;
  since: string;
  heartbeat_at: string;
}

export class LockRepo {
  private readonly sql: StatementCache;

  constructor(db: Database) {
    this.sql = new StatementCache(db);
  }

  get(name: string): LockRow | undefined {
    const row = this.sql.get('SELECT * FROM locks WHERE name = ?').get(name) as Row | undefined;
    return (
      row && {
        name: row.name,
        token: row.token,
        pid: row.pid,
        host: row.host,
        operation: row.operation,
        since: row.since,
        heartbeatAt: row.heartbeat_at,
      }
    );
  }

  /** Writes `row` as the holder, replacing the holder whose token is `replacing` (if any). */
  put(row: LockRow, replacing?: string): void {
    if (replacing !== undefined)
      this.sql.get('DELETE FROM locks WHERE name = ? AND token = ?').run(row.name, replacing);
    this.sql
      .get('INSERT INTO locks (name, token, pid, host, operation, since, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(row.name, row.token, row.pid, row.host, row.operation, row.since, row.heartbeatAt);
  }

  /** False when the lock is no longer ours. */
  heartbeat(name: string, token: string, at: string): boolean {
    return (
      this.sql.get('UPDATE locks SET heartbeat_at = ? WHERE name = ? AND token = ?').run(at, name, token).changes > 0
    );
  }

  release(name: string, token: string): boolean {
    return this.sql.get('DELETE FROM locks WHERE name = ? AND token = ?').run(name, token).changes > 0;
  }
}

export interface LockHolder {
  pid: number;
  host: string;
  operation: string;
  since: string;
  heartbeatAt: string;
}

/**
 * The one-promotion-at-a-time lock, whatever keeps it (this database, or a DynamoDB table for
 * teams). A holder whose process is gone (same host) or whose heartbeat is older than
 * `staleAfterMs` is taken over.
 */
export interface PromotionLock {
  /** Takes the app's lock or throws `LOCK_HELD` naming the holder; a dead holder is taken over and returned. */
  acquire(
    app: string,
    holder: { pid: number; host: string; operation: string },
    options: { staleAfterMs: number },
  ): Promise<{ takenOverFrom?: LockHolder }>;
  /** Renews the holder's heartbeat; throws `LOCK_LOST` when another process has taken the lock over. */
  heartbeat(app: string): Promise<void>;
  release(app: string): Promise<void>;
  /** Who holds the app's lock now, as the lock's own store says (`doctor` reports it); undefined when free. */
  holder(app: string): Promise<LockHolder | undefined>;
}

export function lockLost(app: string): StagecraftError {
  return new StagecraftError(
    'LOCK_LOST',
    `this process lost the lock of ${app}: it was silent long enough for another command to take it over`,
    {
      hint: 'nothing more was changed by this process; `stagecraft status` shows where the promotion stands',
    },
  );
}

/**
 * Why a holder no longer counts — its process is gone from this host, or it has been silent
 * longer than `staleAfterMs` (another host, or a hung process) — or undefined while it lives.
 * The rule every lock takes a holder over by, and the one `doctor` reports with.
 */
export function deadHolder(
  holder: LockHolder,
  now: Date,
  options: { staleAfterMs: number; isAlive?: (pid: number) => boolean },
): 'gone' | 'silent' | undefined {
  if (holder.host === hostname() && !(options.isAlive ?? processIsAlive)(holder.pid)) return 'gone';
  if (now.getTime() - Date.parse(holder.heartbeatAt) > options.staleAfterMs) return 'silent';
  return undefined;
}

/** `kill(pid, 0)` delivers nothing and only asks whether the process exists (EPERM: it does, owned by another user). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
