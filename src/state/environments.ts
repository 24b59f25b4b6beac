/**
 * The ephemeral environments `deploy --ephemeral` made: owner, branch, the chain environment
 * they copy, when they were made and when they expire. A row lives until `destroy` or `gc`.
 */
import type { Database } from 'better-sqlite3';
import type { LedgerEntry, LedgerRepo } from './ledger.js';
import { StatementCache } from './statements.js';

export interface EphemeralEnvironment {
  name: string;
  owner: string;
  branch: string;
  from: string;
  createdAt: string;
  createdBy: string;
  expiresAt: string;
}

interface Row {
  name: string;
  owner: string;
  branch: string;
  from_env: string;
  created_at: string;
  created_by: string;
  expires_at: string;
}

export class EnvironmentRepo {
  private readonly sql: StatementCache;

  constructor(
    db: Database,
    private readonly ledger: LedgerRepo,
    private readonly now: () => Date,
  ) {
    this.sql = new StatementCache(db);
  }

  /** Oldest first: the order `up` gives them gateway ports in. */
  list(): EphemeralEnvironment[] {
    return (this.sql.get('SELECT * FROM environments ORDER BY created_at, name').all() as Row[]).map(toRecord);
  }

  get(name: string): EphemeralEnvironment | undefined {
    const row = this.sql.get('SELECT * FROM environments WHERE name = ?').get(name) as Row | undefined;
    return row && toRecord(row);
  }

  /** Makes the environment, or moves an existing one's expiry to `ttlMs` from now; recorded either way. */
  upsert(request: Omit<EphemeralEnvironment, 'createdAt' | 'expiresAt'> & { ttlMs: number }): EphemeralEnvironment {
    const now = this.now();
    const { ttlMs, ...rest } = request;
    const spec = { ...rest, expiresAt: new Date(now.getTime() + ttlMs).toISOString() };
    const existing = this.get(spec.name);
    if (existing) {
      this.sql.get('UPDATE environments SET expires_at = ? WHERE name = ?').run(spec.expiresAt, spec.name);
    } else {
      this.sql
        .get(
          'INSERT INTO environments (name, owner, branch, from_env, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(spec.name, spec.owner, spec.branch, spec.from, now.toISOString(), spec.createdBy, spec.expiresAt);
    }
    this.ledger.append({
      kind: existing ? 'environment.renewed' : 'environment.created',
      operation: 'deploy',
      actor: spec.createdBy,
      environment: spec.name,
      detail: { owner: spec.owner, branch: spec.branch, from: spec.from, expiresAt: spec.expiresAt },
    });
    return this.get(spec.name) as EphemeralEnvironment;
  }

  /**
   * Brings this database's list in line with a shared ledger (state: dynamodb), where other
   * machines (CI runners) record the environments they make and destroy: a scheduled `gc` on a
   * fresh runner must see them. Not a change of state itself: the records are already there.
   */
  replay(entries: readonly LedgerEntry[]): void {
    const alive = new Map<string, EphemeralEnvironment>();
    const destroyed = new Set<string>();
    for (const entry of entries) {
      const name = entry.environment;
      if (name === null) continue;
      const detail = entry.detail as { owner?: string; branch?: string; from?: string; expiresAt?: string };
      if (entry.kind === 'environment.created' && detail.owner && detail.branch && detail.from && detail.expiresAt) {
        alive.set(name, {
          name,
          owner: detail.owner,
          branch: detail.branch,
          from: detail.from,
          createdAt: entry.at,
          createdBy: entry.actor,
          expiresAt: detail.expiresAt,
        });
        destroyed.delete(name);
      } else if (entry.kind === 'environment.renewed' && detail.expiresAt) {
        const known = alive.get(name);
        if (known) alive.set(name, { ...known, expiresAt: detail.expiresAt });
      } else if (entry.kind === 'environment.destroyed') {
        alive.delete(name);
        destroyed.add(name);
      }
    }
    for (const name of destroyed) this.remove(name);
    for (const env of alive.values()) {
      this.sql
        .get(
          `INSERT INTO environments (name, owner, branch, from_env, created_at, created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET expires_at = excluded.expires_at`,
        )
        .run(env.name, env.owner, env.branch, env.from, env.createdAt, env.createdBy, env.expiresAt);
    }
  }

  remove(name: string): boolean {
    return this.sql.get('DELETE FROM environments WHERE name = ?').run(name).changes > 0;
  }
}

function toRecord(row: Row): EphemeralEnvironment {
  return {
    name: row.name,
    owner: row.owner,
    branch: row.branch,
    from: row.from_env,
    createdAt: row.created_at,
    createdBy: row.created_by,
    expiresAt: row.expires_at,
  };
}
