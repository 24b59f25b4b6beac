/**
 * Releases: the immutable set of artifacts built from one source state. The id `r<seq>-<hex>`
 * carries a sequence number people can say aloud and the start of the content digest, so the
 * same inputs always map to the same release.
 */
import type { Database } from 'better-sqlite3';
import { StatementCache } from './statements.js';
import { StagecraftError } from '../errors.js';
import type { Manifest } from '../manifest/index.js';
import type { LedgerRepo } from './ledger.js';

export interface ReleaseFunction {
  function: string;
  sha256: string;
  size: number;
  runtime: string;
  handler: string;
}

/** A finding of the credential scan let through on purpose when the release was built. */
export interface AllowedCredential {
  file: string;
  line: number;
  /** The scan rule, e.g. `@secretlint/secretlint-rule-github` or `stagecraft/config-literal`. */
  rule: string;
  /** `comment` (a `stagecraft-allow-secret` comment on the line) or `manifest` (credentials.allow). */
  allowedBy: 'comment' | 'manifest';
  reason: string;
}

export interface NewRelease {
  digest: string;
  manifestDigest: string;
  /** The manifest the release was built from: deploying the release uses this, not today's file. */
  manifest: Manifest;
  commit: string | null;
  dirty: boolean;
  functions: ReleaseFunction[];
  /** Credential-scan findings let through on purpose; recorded with the release. */
  allowedCredentials?: AllowedCredential[];
}

export interface Release {
  id: string;
  seq: number;
  digest: string;
  manifestDigest: string;
  manifest: Manifest;
  commit: string | null;
  dirty: boolean;
  createdAt: string;
  createdBy: string;
  functions: ReleaseFunction[];
  allowedCredentials: AllowedCredential[];
}

interface ReleaseRow {
  id: string;
  seq: number;
  digest: string;
  manifest_digest: string;
  manifest_json: string;
  commit_sha: string | null;
  dirty: number;
  created_at: string;
  created_by: string;
}

export class ReleaseRepo {
  private readonly sql: StatementCache;

  constructor(
    db: Database,
    private readonly ledger: LedgerRepo,
    private readonly now: () => Date,
  ) {
    this.sql = new StatementCache(db);
  }

  /** Records a build; the same digest returns the release already recorded (`created: false`). */
  record(build: NewRelease, actor: string): { release: Release; created: boolean } {
    const existing = this.sql.get('SELECT * FROM releases WHERE digest = ?').get(build.digest) as
      ReleaseRow | undefined;
    if (existing) return { release: this.hydrate(existing), created: false };
    const at = this.now().toISOString();
    const seq = (this.sql.get('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM releases').get() as { next: number }).next;
    const id = `r${seq}-${build.digest.slice(0, 8)}`;
    this.sql
      .get(
        `INSERT INTO releases (id, seq, digest, manifest_digest, manifest_json, commit_sha, dirty, created_at, created_by)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        id,
        seq,
        build.digest,
        build.manifestDigest,
        JSON.stringify(build.manifest),
        build.commit,
        build.dirty ? 1 : 0,
        at,
        actor,
      );
    const addArtifact = this.sql.get('INSERT OR IGNORE INTO artifacts (sha256, size, created_at) VALUES (?, ?, ?)');
    const addFunction = this.sql.get(
      'INSERT INTO release_functions (release_id, function, sha256, runtime, handler) VALUES (?, ?, ?, ?, ?)',
    );
    for (const fn of build.functions) {
      addArtifact.run(fn.sha256, fn.size, at);
      addFunction.run(id, fn.function, fn.sha256, fn.runtime, fn.handler);
    }
    const allowed = build.allowedCredentials ?? [];
    const addAllowed = this.sql.get(
      'INSERT OR IGNORE INTO release_allowed_credentials (release_id, file, line, rule, allowed_by, reason) VALUES (?, ?, ?, ?, ?, ?)',
    );
    for (const finding of allowed)
      addAllowed.run(id, finding.file, finding.line, finding.rule, finding.allowedBy, finding.reason);
    this.ledger.append({
      kind: 'release.built',
      operation: 'build',
      actor,
      releaseId: id,
      commit: build.commit,
      detail: {
        dirty: build.dirty,
        manifestDigest: build.manifestDigest,
        artifacts: Object.fromEntries(build.functions.map((fn) => [fn.function, fn.sha256])),
        ...(allowed.length > 0
          ? { allowedCredentials: allowed.map((finding) => `${finding.file}:${finding.line} ${finding.rule}`) }
          : {}),
      },
    });
    return {
      release: this.hydrate(this.sql.get('SELECT * FROM releases WHERE id = ?').get(id) as ReleaseRow),
      created: true,
    };
  }

  latest(): Release | undefined {
    const row = this.sql.get('SELECT * FROM releases ORDER BY seq DESC LIMIT 1').get() as ReleaseRow | undefined;
    return row && this.hydrate(row);
  }

  list(): Release[] {
    return (this.sql.get('SELECT * FROM releases ORDER BY seq').all() as ReleaseRow[]).map((row) => this.hydrate(row));
  }

  /** A release by its id (`r7-3fa9c2d1`), its number (`r7`, `7`) or a digest prefix (`3fa9c2d1`). */
  find(ref: string): Release {
    const text = ref.trim();
    const bySeq = /^r?(\d+)$/.exec(text);
    const row = (
      bySeq
        ? this.sql.get('SELECT * FROM releases WHERE seq = ?').get(Number(bySeq[1]))
        : this.sql
            .get("SELECT * FROM releases WHERE id = ? OR (length(?) >= 6 AND digest LIKE ? || '%')")
            .get(text, text, text)
    ) as ReleaseRow | undefined;
    if (!row) {
      const known = this.list()
        .slice(-5)
        .map((release) => release.id);
      throw new StagecraftError('RELEASE_NOT_FOUND', `no release ${text}`, {
        hint: known.length > 0 ? `recent releases: ${known.join(', ')}` : 'run `stagecraft build` first',
      });
    }
    return this.hydrate(row);
  }

  private hydrate(row: ReleaseRow): Release {
    const functions = this.sql
      .get(
        `SELECT rf.function, rf.sha256, a.size, rf.runtime, rf.handler FROM release_functions rf
      JOIN artifacts a ON a.sha256 = rf.sha256 WHERE rf.release_id = ? ORDER BY rf.function`,
      )
      .all(row.id) as ReleaseFunction[];
    const allowedCredentials = this.sql
      .get(
        `SELECT file, line, rule, allowed_by AS allowedBy, reason FROM release_allowed_credentials
      WHERE release_id = ? ORDER BY file, line, rule`,
      )
      .all(row.id) as AllowedCredential[];
    return {
      id: row.id,
      seq: row.seq,
      digest: row.digest,
      manifestDigest: row.manifest_digest,
      manifest: JSON.parse(row.manifest_json) as Manifest,
      commit: row.commit_sha,
      dirty: row.dirty === 1,
      createdAt: row.created_at,
      createdBy: row.created_by,
      functions,
      allowedCredentials,
    };
  }
}
