/**
 * The local control plane: function instances, their published versions and the aliases that
 * point at them, with Lambda's rules. Publishing code and config identical to the instance's
 * newest version returns that version (as PublishVersion does); an alias can only point at a
 * version that exists, and a traffic split names one extra version with a weight in (0, 1).
 */
import type { Database } from 'better-sqlite3';
import { StatementCache } from './statements.js';
import { StagecraftError } from '../errors.js';
import type { LedgerRepo, NewLedgerEntry } from './ledger.js';

/** Who changes state, why, and on behalf of which release: copied into the ledger record. */
export type ChangeMeta = Omit<NewLedgerEntry, 'kind' | 'instance' | 'alias' | 'version' | 'previousVersion'>;

export interface NewVersion {
  instance: string;
  environment: string;
  function: string;
  releaseId: string;
  sha256: string;
  runtime: string;
  handler: string;
  memoryMb: number;
  timeoutSec: number;
  /** The config as stored: secret values appear only as their `${secret:…}` reference. */
  config: Record<string, string>;
  /** Digest of the fully resolved config, secrets included, so a changed secret makes a new version. */
  configDigest: string;
}

export interface VersionRecord extends NewVersion {
  version: number;
  publishedAt: string;
}

export interface AliasRecord {
  instance: string;
  name: string;
  version: number;
  /** A second version taking `weight` of the traffic during a canary; the primary takes the rest. */
  extra: { version: number; weight: number } | undefined;
  revision: number;
  updatedAt: string;
}

export interface AliasTarget {
  instance: string;
  name: string;
  version: number;
  extra?: { version: number; weight: number } | undefined;
  /** Refuse the change when the alias moved since this revision was read (optimistic locking). */
  expectedRevision?: number | undefined;
}

interface VersionRow {
  instance: string;
  version: number;
  environment: string;
  function: string;
  release_id: string;
  sha256: string;
  runtime: string;
  handler: string;
  memory_mb: number;
  timeout_s: number;
  config_json: string;
  config_digest: string;
  published_at: string;
}
interface AliasRow {
  instance: string;
  name: string;
  version: number;
  extra_version: number | null;
  extra_weight: number | null;
  revision: number;
  updated_at: string;
}

export class ControlPlaneRepo {
  private readonly sql: StatementCache;

  constructor(
    db: Database,
    private readonly ledger: LedgerRepo,
    private readonly now: () => Date,
  ) {
    this.sql = new StatementCache(db);
  }

  ensureInstance(name: string, fn: string, environment: string | null, change: ChangeMeta): boolean {
    const { changes } = this.sql
      .get('INSERT OR IGNORE INTO instances (name, function, environment, created_at) VALUES (?, ?, ?, ?)')
      .run(name, fn, environment, this.now().toISOString());
    if (changes > 0) this.ledger.append({ ...change, kind: 'instance.created', instance: name, function: fn });
    return changes > 0;
  }

  publish(spec: NewVersion, change: ChangeMeta): { version: VersionRecord; created: boolean } {
    const latest = this.latestVersion(spec.instance);
    if (latest && sameCodeAndConfig(latest, spec)) return { version: latest, created: false };
    // A deleted version's number is never given again (its ledger records still name it).
    const deleted = (
      this.sql.get('SELECT MAX(version) AS max FROM deleted_versions WHERE instance = ?').get(spec.instance) as {
        max: number | null;
      }
    ).max;
    const version = Math.max(latest?.version ?? 0, deleted ?? 0) + 1;
    const publishedAt = this.now().toISOString();
    this.sql
      .get(
        `INSERT INTO versions (instance, version, environment, function, release_id, sha256, runtime, handler, memory_mb, timeout_s, config_json, config_digest, published_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        spec.instance,
        version,
        spec.environment,
        spec.function,
        spec.releaseId,
        spec.sha256,
        spec.runtime,
        spec.handler,
        spec.memoryMb,
        spec.timeoutSec,
        JSON.stringify(spec.config),
        spec.configDigest,
        publishedAt,
      );
    this.ledger.append({
      ...change,
      kind: 'version.published',
      instance: spec.instance,
      version,
      environment: spec.environment,
      function: spec.function,
      releaseId: spec.releaseId,
      detail: { ...change.detail, sha256: spec.sha256, configDigest: spec.configDigest },
    });
    return { version: { ...spec, version, publishedAt }, created: true };
  }

  getVersion(instance: string, version: number): VersionRecord | undefined {
    const row = this.sql.get('SELECT * FROM versions WHERE instance = ? AND version = ?').get(instance, version) as
      VersionRow | undefined;
    return row && toVersion(row);
  }

  latestVersion(instance: string): VersionRecord | undefined {
    const row = this.sql
      .get('SELECT * FROM versions WHERE instance = ? ORDER BY version DESC LIMIT 1')
      .get(instance) as VersionRow | undefined;
    return row && toVersion(row);
  }

  listVersions(instance: string): VersionRecord[] {
    return (
      this.sql.get('SELECT * FROM versions WHERE instance = ? ORDER BY version').all(instance) as VersionRow[]
    ).map(toVersion);
  }

  getAlias(instance: string, name: string): AliasRecord | undefined {
    const row = this.sql.get('SELECT * FROM aliases WHERE instance = ? AND name = ?').get(instance, name) as
      AliasRow | undefined;
    return row && toAlias(row);
  }

  listAliases(): AliasRecord[] {
    return (this.sql.get('SELECT * FROM aliases ORDER BY instance, name').all() as AliasRow[]).map(toAlias);
  }

  setAlias(target: AliasTarget, change: ChangeMeta): AliasRecord {
    for (const version of [target.version, target.extra?.version]) {
      if (version !== undefined && !this.getVersion(target.instance, version)) {
        throw new StagecraftError('VERSION_NOT_FOUND', `${target.instance} has no version ${version}`, {
          hint: 'an alias can only point at a published version',
        });
      }
    }
    if (
      target.extra &&
      !(target.extra.weight > 0 && target.extra.weight < 1 && target.extra.version !== target.version)
    ) {
      throw new StagecraftError(
        'ARGUMENT_INVALID',
        `a traffic split needs another version and a weight between 0 and 1, got version ${target.extra.version} at ${target.extra.weight}`,
      );
    }
    const current = this.getAlias(target.instance, target.name);
    if (target.expectedRevision !== undefined && current?.revision !== target.expectedRevision) {
      throw new StagecraftError(
        'STATE_FAILED',
        `alias ${target.name} of ${target.instance} changed while this operation ran (revision ${current?.revision ?? 'none'}, expected ${target.expectedRevision})`,
        {
          hint: 'read the alias again and retry',
        },
      );
    }
    const updatedAt = this.now().toISOString();
    const revision = (current?.revision ?? 0) + 1;
    this.sql
      .get(
        `INSERT INTO aliases (instance, name, version, extra_version, extra_weight, revision, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (instance, name) DO UPDATE SET version = excluded.version, extra_version = excluded.extra_version,
        extra_weight = excluded.extra_weight, revision = excluded.revision, updated_at = excluded.updated_at`,
      )
      .run(
        target.instance,
        target.name,
        target.version,
        target.extra?.version ?? null,
        target.extra?.weight ?? null,
        revision,
        updatedAt,
      );
    this.ledger.append({
      ...change,
      kind: 'alias.moved',
      instance: target.instance,
      alias: target.name,
      version: target.version,
      previousVersion: current?.version ?? null,
      detail: { ...change.detail, ...(target.extra ? { extra: target.extra } : {}), revision },
    });
    return {
      instance: target.instance,
      name: target.name,
      version: target.version,
      extra: target.extra,
      revision,
      updatedAt,
    };
  }

  /**
   * Removes an alias (Lambda's DeleteAlias): how a rollback undoes the first deploy of an
   * environment, which had no `live` to go back to. Removing a missing alias is a no-op.
   */
  deleteAlias(instance: string, name: string, change: ChangeMeta): boolean {
    const current = this.getAlias(instance, name);
    if (!current) return false;
    this.sql.get('DELETE FROM aliases WHERE instance = ? AND name = ?').run(instance, name);
    this.ledger.append({
      ...change,
      kind: 'alias.deleted',
      instance,
      alias: name,
      version: null,
      previousVersion: current.version,
      detail: { ...change.detail, revision: current.revision + 1 },
    });
    return true;
  }

  /**
   * Deletes a version no alias points at (Lambda's DeleteFunction with a version qualifier): its
   * tombstone, the row and the ledger record together. An alias on it refuses (foreign key).
   */
  deleteVersion(instance: string, version: number, change: ChangeMeta): boolean {
    const existing = this.getVersion(instance, version);
    if (!existing) return false;
    const pointing = this.sql
      .get('SELECT name FROM aliases WHERE instance = ? AND (version = ? OR extra_version = ?)')
      .get(instance, version, version) as { name: string } | undefined;
    if (pointing) {
      throw new StagecraftError(
        'STATE_FAILED',
        `version ${version} of ${instance} is where alias ${pointing.name} points`,
        { hint: 'move or delete the alias first' },
      );
    }
    this.sql
      .get('INSERT INTO deleted_versions (instance, version, deleted_at) VALUES (?, ?, ?)')
      .run(instance, version, this.now().toISOString());
    this.sql.get('DELETE FROM versions WHERE instance = ? AND version = ?').run(instance, version);
    this.ledger.append({
      ...change,
      kind: 'version.deleted',
      instance,
      version,
      environment: existing.environment,
      function: existing.function,
      releaseId: existing.releaseId,
      detail: { ...change.detail, sha256: existing.sha256 },
    });
    return true;
  }

  /** Removes a function instance that has no versions and no aliases left (`destroy`). */
  deleteInstance(instance: string, change: ChangeMeta): boolean {
    const { changes } = this.sql.get('DELETE FROM instances WHERE name = ?').run(instance);
    if (changes > 0) this.ledger.append({ ...change, kind: 'instance.deleted', instance });
    return changes > 0;
  }
}

function sameCodeAndConfig(a: NewVersion, b: NewVersion): boolean {
  return (
    a.sha256 === b.sha256 &&
    a.configDigest === b.configDigest &&
    a.runtime === b.runtime &&
    a.handler === b.handler &&
    a.memoryMb === b.memoryMb &&
    a.timeoutSec === b.timeoutSec
  );
}

function toVersion(row: VersionRow): VersionRecord {
  return {
    instance: row.instance,
    version: row.version,
    environment: row.environment,
    function: row.function,
    releaseId: row.release_id,
    sha256: row.sha256,
    runtime: row.runtime,
    handler: row.handler,
    memoryMb: row.memory_mb,
    timeoutSec: row.timeout_s,
    config: JSON.parse(row.config_json) as Record<string, string>,
    configDigest: row.config_digest,
    publishedAt: row.published_at,
  };
}

function toAlias(row: AliasRow): AliasRecord {
  return {
    instance: row.instance,
    name: row.name,
    version: row.version,
    extra:
      row.extra_version === null || row.extra_weight === null
        ? undefined
        : { version: row.extra_version, weight: row.extra_weight },
    revision: row.revision,
    updatedAt: row.updated_at,
  };
}
