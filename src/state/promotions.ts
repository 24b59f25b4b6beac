/**
 * The promotion journal: one row per promotion or deploy, whose `state` document is rewritten
 * after every step so that a process killed at any moment leaves behind exactly where it was.
 * The shape of `state` belongs to the promotion engine; this repo stores it as it is given.
 */
import type { Database } from 'better-sqlite3';
import { StatementCache } from './statements.js';

export type PromotionKind = 'promote' | 'deploy';

/** `running` and `rolling-back` mean a process was (or is) working on it; `awaiting-approval` waits for a person. */
export type PromotionStatus =
  'running' | 'awaiting-approval' | 'rolling-back' | 'succeeded' | 'failed' | 'refused' | 'superseded';

export const UNFINISHED_STATUSES: readonly PromotionStatus[] = ['running', 'awaiting-approval', 'rolling-back'];

export interface PromotionRecord<S = unknown> {
  seq: number;
  id: string;
  kind: PromotionKind;
  releaseId: string;
  target: string;
  status: PromotionStatus;
  state: S;
  startedAt: string;
  startedBy: string;
  updatedAt: string;
  finishedAt: string | null;
}

interface PromotionRow {
  seq: number;
  id: string;
  kind: PromotionKind;
  release_id: string;
  target: string;
  status: PromotionStatus;
  state_json: string;
  started_at: string;
  started_by: string;
  updated_at: string;
  finished_at: string | null;
}

const FINISHED = new Set<PromotionStatus>(['succeeded', 'failed', 'refused', 'superseded']);

export class PromotionRepo {
  private readonly sql: StatementCache;

  constructor(
    db: Database,
    private readonly now: () => Date,
  ) {
    this.sql = new StatementCache(db);
  }

  create<S>(spec: {
    kind: PromotionKind;
    releaseId: string;
    target: string;
    startedBy: string;
    state: S;
  }): PromotionRecord<S> {
    const at = this.now().toISOString();
    const seq = (this.sql.get('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM promotions').get() as { next: number })
      .next;
    const id = `p${seq}`;
    this.sql
      .get(
        `INSERT INTO promotions (seq, id, kind, release_id, target, status, state_json, started_at, started_by, updated_at)
      VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)`,
      )
      .run(seq, id, spec.kind, spec.releaseId, spec.target, JSON.stringify(spec.state), at, spec.startedBy, at);
    return this.get<S>(id) as PromotionRecord<S>;
  }

  /** Writes the journal: the whole state document and the status, stamped now. */
  save<S>(id: string, status: PromotionStatus, state: S): PromotionRecord<S> {
    const at = this.now().toISOString();
    this.sql
      .get('UPDATE promotions SET status = ?, state_json = ?, updated_at = ?, finished_at = ? WHERE id = ?')
      .run(status, JSON.stringify(state), at, FINISHED.has(status) ? at : null, id);
    return this.get<S>(id) as PromotionRecord<S>;
  }

  get<S = unknown>(id: string): PromotionRecord<S> | undefined {
    const row = this.sql.get('SELECT * FROM promotions WHERE id = ?').get(id) as PromotionRow | undefined;
    return row && toRecord<S>(row);
  }

  /** The promotions not yet finished, oldest first (there is at most one unless a crash left more). */
  unfinished<S = unknown>(): PromotionRecord<S>[] {
    const placeholders = UNFINISHED_STATUSES.map(() => '?').join(', ');
    return (
      this.sql
        .get(`SELECT * FROM promotions WHERE status IN (${placeholders}) ORDER BY seq`)
        .all(...UNFINISHED_STATUSES) as PromotionRow[]
    ).map((row) => toRecord<S>(row));
  }

  /** Every promotion and deploy of one release, newest first. */
  ofRelease<S = unknown>(releaseId: string): PromotionRecord<S>[] {
    return (
      this.sql.get('SELECT * FROM promotions WHERE release_id = ? ORDER BY seq DESC').all(releaseId) as PromotionRow[]
    ).map((row) => toRecord<S>(row));
  }

  /** The newest `limit` promotions, newest first. */
  list<S = unknown>(limit = 50): PromotionRecord<S>[] {
    return (this.sql.get('SELECT * FROM promotions ORDER BY seq DESC LIMIT ?').all(limit) as PromotionRow[]).map(
      (row) => toRecord<S>(row),
    );
  }
}

function toRecord<S>(row: PromotionRow): PromotionRecord<S> {
  return {
    seq: row.seq,
    id: row.id,
    kind: row.kind,
    releaseId: row.release_id,
    target: row.target,
    status: row.status,
    state: JSON.parse(row.state_json) as S,
    startedAt: row.started_at,
    startedBy: row.started_by,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}
