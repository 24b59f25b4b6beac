/**
 * Facts about the database that `stagecraft doctor` checks against DESIGN §5: which guards
 * (triggers) are in place, which versions name artifacts the database does not know, and
 * whether every alias is where the last ledger record of it says.
 */
import type { Database } from 'better-sqlite3';

export const IMMUTABILITY_TRIGGERS = [
  'releases_immutable',
  'artifacts_immutable',
  'artifacts_kept',
  'versions_immutable',
  'versions_kept',
  'ledger_append_only',
  'ledger_kept',
] as const;

export interface AliasLedgerMismatch {
  instance: string;
  alias: string;
  /** What the aliases table holds (null: no alias). */
  actual: { version: number; revision: number } | null;
  /** What the newest ledger record of this alias says (null: removed, or never recorded). */
  recorded: { version: number | null; revision: number | null; seq: number } | null;
}

export class AuditRepo {
  constructor(private readonly db: Database) {}

  missingTriggers(): string[] {
    const present = new Set(
      (this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as { name: string }[]).map(
        (row) => row.name,
      ),
    );
    return IMMUTABILITY_TRIGGERS.filter((name) => !present.has(name));
  }

  /** Versions whose artifact or release is not in the database (foreign keys make this empty unless they were off). */
  orphanVersions(): { instance: string; version: number; sha256: string }[] {
    return this.db
      .prepare(
        `SELECT v.instance, v.version, v.sha256 FROM versions v
      LEFT JOIN artifacts a ON a.sha256 = v.sha256 LEFT JOIN releases r ON r.id = v.release_id
      WHERE a.sha256 IS NULL OR r.id IS NULL`,
      )
      .all() as { instance: string; version: number; sha256: string }[];
  }

  /** Aliases that point at a version that does not exist, or split traffic with a weight outside (0, 1). */
  badAliases(): { instance: string; name: string; version: number; problem: string }[] {
    return this.db
      .prepare(
        `SELECT a.instance, a.name, a.version,
        CASE WHEN v.version IS NULL THEN 'points at a missing version'
             WHEN a.extra_version IS NOT NULL AND x.version IS NULL THEN 'splits traffic with a missing version'
             ELSE 'has a traffic weight outside (0, 1)' END AS problem
      FROM aliases a
      LEFT JOIN versions v ON v.instance = a.instance AND v.version = a.version
      LEFT JOIN versions x ON x.instance = a.instance AND x.version = a.extra_version
      WHERE v.version IS NULL OR (a.extra_version IS NOT NULL AND x.version IS NULL)
         OR (a.extra_weight IS NOT NULL AND NOT (a.extra_weight > 0 AND a.extra_weight < 1))`,
      )
      .all() as { instance: string; name: string; version: number; problem: string }[];
  }

  /** Where `text` appears in what Stagecraft writes about changes: ledger details, version configs, promotion journals. */
  placesContaining(text: string): string[] {
    const like = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const places: string[] = [];
    for (const row of this.db.prepare("SELECT seq FROM ledger WHERE detail LIKE ? ESCAPE '\\'").all(like) as {
      seq: number;
    }[])
      places.push(`ledger #${row.seq}`);
    for (const row of this.db
      .prepare("SELECT instance, version FROM versions WHERE config_json LIKE ? ESCAPE '\\'")
      .all(like) as { instance: string; version: number }[])
      places.push(`version ${row.version} of ${row.instance}`);
    for (const row of this.db.prepare("SELECT id FROM promotions WHERE state_json LIKE ? ESCAPE '\\'").all(like) as {
      id: string;
    }[])
      places.push(`promotion ${row.id}`);
    return places;
  }

  /** Every alias whose current state differs from the newest `alias.moved` / `alias.deleted` ledger record of it. */
  aliasLedgerMismatches(): AliasLedgerMismatch[] {
    const last = this.db
      .prepare(
        `SELECT l.instance, l.alias, l.kind, l.version, l.seq, json_extract(l.detail, '$.revision') AS revision
      FROM ledger l JOIN (SELECT instance, alias, MAX(seq) AS seq FROM ledger WHERE kind IN ('alias.moved', 'alias.deleted') GROUP BY instance, alias) m
        ON m.seq = l.seq`,
      )
      .all() as {
      instance: string;
      alias: string;
      kind: string;
      version: number | null;
      seq: number;
      revision: number | null;
    }[];
    const aliases = this.db.prepare('SELECT instance, name, version, revision FROM aliases').all() as {
      instance: string;
      name: string;
      version: number;
      revision: number;
    }[];
    const recorded = new Map(last.map((row) => [`${row.instance}\u0000${row.alias}`, row]));
    const mismatches: AliasLedgerMismatch[] = [];
    for (const alias of aliases) {
      const key = `${alias.instance}\u0000${alias.name}`;
      const record = recorded.get(key);
      recorded.delete(key);
      if (record?.kind === 'alias.moved' && record.version === alias.version && record.revision === alias.revision)
        continue;
      mismatches.push({
        instance: alias.instance,
        alias: alias.name,
        actual: { version: alias.version, revision: alias.revision },
        recorded: record
          ? {
              version: record.kind === 'alias.moved' ? record.version : null,
              revision: record.revision,
              seq: record.seq,
            }
          : null,
      });
    }
    for (const record of recorded.values()) {
      if (record.kind === 'alias.deleted') continue;
      mismatches.push({
        instance: record.instance,
        alias: record.alias,
        actual: null,
        recorded: { version: record.version, revision: record.revision, seq: record.seq },
      });
    }
    return mismatches;
  }
}
