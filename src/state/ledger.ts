/**
 * The ledger: the append-only record of every change of state. Records are written by the
 * same transaction as the change they describe (DESIGN §5, invariant 4), so callers append
 * through `LedgerRepo.append` from inside `StateStore.transaction`.
 */
import type { Database } from 'better-sqlite3';
import { StatementCache } from './statements.js';

export interface LedgerEntry {
  seq: number;
  at: string;
  /** What changed: `release.built`, `instance.created`, `version.published`, `alias.moved`, … */
  kind: string;
  /** Why: the command or step that made the change (`build`, `deploy`, `promote`, `rollback`, …). */
  operation: string;
  actor: string;
  environment: string | null;
  function: string | null;
  instance: string | null;
  alias: string | null;
  releaseId: string | null;
  version: number | null;
  previousVersion: number | null;
  commit: string | null;
  detail: Record<string, unknown>;
}

export type NewLedgerEntry = Pick<LedgerEntry, 'kind' | 'operation' | 'actor'> &
  Partial<Omit<LedgerEntry, 'seq' | 'at' | 'kind' | 'operation' | 'actor'>>;

export interface LedgerQuery {
  environment?: string;
  function?: string;
  kind?: string;
  instance?: string;
  alias?: string;
  /** Only entries written after this one (e.g. those not yet copied elsewhere). */
  afterSeq?: number;
  /** The newest `limit` entries (still returned oldest first). */
  limit?: number;
}

interface LedgerRow {
  seq: number;
  at: string;
  kind: string;
  operation: string;
  actor: string;
  environment: string | null;
  function: string | null;
  instance: string | null;
  alias: string | null;
  release_id: string | null;
  version: number | null;
  previous_version: number | null;
  commit_sha: string | null;
  detail: string;
}

export class LedgerRepo {
  private readonly sql: StatementCache;

  constructor(
    db: Database,
    private readonly now: () => Date,
  ) {
    this.sql = new StatementCache(db);
  }

  append(entry: NewLedgerEntry): LedgerEntry {
    const at = this.now().toISOString();
    const row = {
      at,
      kind: entry.kind,
      operation: entry.operation,
      actor: entry.actor,
      environment: entry.environment ?? null,
      function: entry.function ?? null,
      instance: entry.instance ?? null,
      alias: entry.alias ?? null,
      release_id: entry.releaseId ?? null,
      version: entry.version ?? null,
      previous_version: entry.previousVersion ?? null,
      commit_sha: entry.commit ?? null,
      detail: JSON.stringify(entry.detail ?? {}),
    };
    const { lastInsertRowid } = this.sql
      .get(
        `
      INSERT INTO ledger (at, kind, operation, actor, environment, function, instance, alias, release_id, version, previous_version, commit_sha, detail)
      VALUES (@at, @kind, @operation, @actor, @environment, @function, @instance, @alias, @release_id, @version, @previous_version, @commit_sha, @detail)
    `,
      )
      .run(row);
    return toEntry({ seq: Number(lastInsertRowid), ...row });
  }

  list(query: LedgerQuery = {}): LedgerEntry[] {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (query.environment !== undefined) {
      where.push('environment = @environment');
      params['environment'] = query.environment;
    }
    if (query.function !== undefined) {
      where.push('function = @function');
      params['function'] = query.function;
    }
    if (query.kind !== undefined) {
      where.push('kind = @kind');
      params['kind'] = query.kind;
    }
    for (const column of ['instance', 'alias'] as const) {
      if (query[column] === undefined) continue;
      where.push(`${column} = @${column}`);
      params[column] = query[column];
    }
    if (query.afterSeq !== undefined) {
      where.push('seq > @afterSeq');
      params['afterSeq'] = query.afterSeq;
    }
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const limit = query.limit !== undefined ? `LIMIT ${Math.max(0, Math.floor(query.limit))}` : '';
    const rows = this.sql
      .get(`SELECT * FROM (SELECT * FROM ledger ${filter} ORDER BY seq DESC ${limit}) ORDER BY seq`)
      .all(params) as LedgerRow[];
    return rows.map(toEntry);
  }
}

function toEntry(row: LedgerRow): LedgerEntry {
  return {
    seq: row.seq,
    at: row.at,
    kind: row.kind,
    operation: row.operation,
    actor: row.actor,
    environment: row.environment,
    function: row.function,
    instance: row.instance,
    alias: row.alias,
    releaseId: row.release_id,
    version: row.version,
    previousVersion: row.previous_version,
    commit: row.commit_sha,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
  };
}
