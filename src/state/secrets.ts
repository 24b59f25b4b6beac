/**
 * The rows of the local secret store: sealed (encrypted) values only. Sealing and opening live in
 * `src/secrets`; this repository never sees a value in clear, and its ledger records carry the
 * secret's name and revision, never its value (DESIGN §5, invariant 7).
 */
import type { Database } from 'better-sqlite3';
import type { LedgerRepo } from './ledger.js';

/** An AES-256-GCM ciphertext with what is needed to open it. */
export interface SealedValue {
  /** Which key sealed it (an id derived from the key, not the key). */
  keyId: string;
  iv: Uint8Array;
  tag: Uint8Array;
  ciphertext: Uint8Array;
}

export interface SecretRevision extends SealedValue {
  revision: number;
  environment: string;
  name: string;
  setAt: string;
  setBy: string;
}

/** One secret as `secret list` shows it: no value. */
export interface SecretSummary {
  name: string;
  /** The revision in use now. */
  revision: number;
  /** How many revisions are kept (older ones stay for the versions that pinned them). */
  revisions: number;
  changedAt: string;
  changedBy: string;
}

/** `revision` is the row's id across the store; `number` is the revision as people and versions know it, per secret. */
interface SecretRow {
  revision: number;
  number: number;
  environment: string;
  name: string;
  key_id: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
  set_at: string;
  set_by: string;
}

export class SecretRepo {
  constructor(
    private readonly db: Database,
    private readonly ledger: LedgerRepo,
    private readonly now: () => Date,
  ) {}

  /** Adds a revision of `name` in `environment`; call inside a transaction. */
  set(environment: string, name: string, sealed: SealedValue, actor: string): number {
    const setAt = this.now().toISOString();
    const { last } = this.db
      .prepare(
        `INSERT INTO secret_counters (environment, name, last) VALUES (?, ?, 1)
      ON CONFLICT (environment, name) DO UPDATE SET last = last + 1 RETURNING last`,
      )
      .get(environment, name) as { last: number };
    const revision = last;
    this.db
      .prepare(
        `INSERT INTO secrets (environment, name, number, key_id, iv, tag, ciphertext, set_at, set_by)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        environment,
        name,
        revision,
        sealed.keyId,
        Buffer.from(sealed.iv),
        Buffer.from(sealed.tag),
        Buffer.from(sealed.ciphertext),
        setAt,
        actor,
      );
    this.ledger.append({ kind: 'secret.set', operation: 'secret', actor, environment, detail: { name, revision } });
    return revision;
  }

  /** Deletes every revision of `name` in `environment`; returns how many there were. Call inside a transaction. */
  remove(environment: string, name: string, actor: string): number {
    const { changes } = this.db
      .prepare('DELETE FROM secrets WHERE environment = ? AND name = ?')
      .run(environment, name);
    if (changes > 0)
      this.ledger.append({
        kind: 'secret.removed',
        operation: 'secret',
        actor,
        environment,
        detail: { name, revisions: changes },
      });
    return changes;
  }

  /** The revision in use now: the newest. */
  current(environment: string, name: string): SecretRevision | undefined {
    const row = this.db
      .prepare('SELECT * FROM secrets WHERE environment = ? AND name = ? ORDER BY number DESC LIMIT 1')
      .get(environment, name) as SecretRow | undefined;
    return row && toRevision(row);
  }

  /** One revision, as a published version pinned it; undefined once removed. */
  revision(environment: string, name: string, revision: number): SecretRevision | undefined {
    const row = this.db
      .prepare('SELECT * FROM secrets WHERE environment = ? AND name = ? AND number = ?')
      .get(environment, name, revision) as SecretRow | undefined;
    return row && toRevision(row);
  }

  list(environment: string): SecretSummary[] {
    const rows = this.db
      .prepare(
        `SELECT s.name, s.number AS revision, s.set_at, s.set_by, latest.revisions FROM secrets s
      JOIN (SELECT name, MAX(number) AS number, COUNT(*) AS revisions FROM secrets WHERE environment = ? GROUP BY name) latest
        ON latest.name = s.name AND latest.number = s.number
      WHERE s.environment = ? ORDER BY s.name`,
      )
      .all(environment, environment) as {
      name: string;
      revision: number;
      set_at: string;
      set_by: string;
      revisions: number;
    }[];
    return rows.map((row) => ({
      name: row.name,
      revision: row.revision,
      revisions: row.revisions,
      changedAt: row.set_at,
      changedBy: row.set_by,
    }));
  }

  /** Every stored revision of every environment (for `doctor`, which looks for their values in clear). */
  all(): SecretRevision[] {
    return (this.db.prepare('SELECT * FROM secrets ORDER BY environment, name, number').all() as SecretRow[]).map(
      toRevision,
    );
  }

  /** The ids of every key that sealed a value still stored, across all environments. */
  keyIds(): string[] {
    return (this.db.prepare('SELECT DISTINCT key_id FROM secrets ORDER BY key_id').all() as { key_id: string }[]).map(
      (row) => row.key_id,
    );
  }
}

function toRevision(row: SecretRow): SecretRevision {
  return {
    revision: row.number,
    environment: row.environment,
    name: row.name,
    keyId: row.key_id,
    iv: row.iv,
    tag: row.tag,
    ciphertext: row.ciphertext,
    setAt: row.set_at,
    setBy: row.set_by,
  };
}
