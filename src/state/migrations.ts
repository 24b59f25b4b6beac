/**
 * Numbered schema migrations. Each runs once, in order, inside a transaction, and the database
 * remembers the highest one applied (`PRAGMA user_version`). Never edit a migration that has
 * shipped; add the next one.
 *
 * Immutability is enforced by the database itself, not only by the code that writes it:
 * artifacts, versions and the ledger refuse UPDATE and DELETE (DESIGN §5, invariants 1, 2, 4).
 */
export const MIGRATIONS: readonly string[] = [
  /* 1: releases, artifacts, function instances, versions, aliases, ledger */ `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE artifacts (
    sha256     TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    created_at TEXT NOT NULL
  );

  CREATE TABLE releases (
    id              TEXT PRIMARY KEY,
    seq             INTEGER NOT NULL UNIQUE,
    digest          TEXT NOT NULL UNIQUE,
    manifest_digest TEXT NOT NULL,
    manifest_json   TEXT NOT NULL,
    commit_sha      TEXT,
    dirty           INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    created_by      TEXT NOT NULL
  );

  CREATE TABLE release_functions (
    release_id TEXT NOT NULL REFERENCES releases(id),
    function   TEXT NOT NULL,
    sha256     TEXT NOT NULL REFERENCES artifacts(sha256),
    runtime    TEXT NOT NULL,
    handler    TEXT NOT NULL,
    PRIMARY KEY (release_id, function)
  );

  CREATE TABLE instances (
    name        TEXT PRIMARY KEY,
    function    TEXT NOT NULL,
    environment TEXT,
    created_at  TEXT NOT NULL
  );

  CREATE TABLE versions (
    instance      TEXT NOT NULL REFERENCES instances(name),
    version       INTEGER NOT NULL,
    environment   TEXT NOT NULL,
    function      TEXT NOT NULL,
    release_id    TEXT NOT NULL REFERENCES releases(id),
    sha256        TEXT NOT NULL REFERENCES artifacts(sha256),
    runtime       TEXT NOT NULL,
    handler       TEXT NOT NULL,
    memory_mb     INTEGER NOT NULL,
    timeout_s     INTEGER NOT NULL,
    config_json   TEXT NOT NULL,
    config_digest TEXT NOT NULL,
    published_at  TEXT NOT NULL,
    PRIMARY KEY (instance, version)
  );

  CREATE TABLE aliases (
    instance          TEXT NOT NULL REFERENCES instances(name),
    name              TEXT NOT NULL,
    version           INTEGER NOT NULL,
    extra_version     INTEGER,
    extra_weight      REAL,
    revision          INTEGER NOT NULL,
    updated_at        TEXT NOT NULL,
    PRIMARY KEY (instance, name),
    FOREIGN KEY (instance, version) REFERENCES versions(instance, version),
    FOREIGN KEY (instance, extra_version) REFERENCES versions(instance, version),
    CHECK ((extra_version IS NULL) = (extra_weight IS NULL)),
    CHECK (extra_weight IS NULL OR (extra_weight > 0 AND extra_weight < 1))
  );

  CREATE TABLE ledger (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    at               TEXT NOT NULL,
    kind             TEXT NOT NULL,
    operation        TEXT NOT NULL,
    actor            TEXT NOT NULL,
    environment      TEXT,
    function         TEXT,
    instance         TEXT,
    alias            TEXT,
    release_id       TEXT,
    version          INTEGER,
    previous_version INTEGER,
    commit_sha       TEXT,
    detail           TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX ledger_by_environment ON ledger (environment, seq);

  CREATE TRIGGER releases_immutable BEFORE UPDATE ON releases BEGIN SELECT RAISE(ABORT, 'releases are immutable'); END;
  CREATE TRIGGER artifacts_immutable BEFORE UPDATE ON artifacts BEGIN SELECT RAISE(ABORT, 'artifacts are immutable'); END;
  CREATE TRIGGER artifacts_kept BEFORE DELETE ON artifacts BEGIN SELECT RAISE(ABORT, 'artifacts are immutable'); END;
  CREATE TRIGGER versions_immutable BEFORE UPDATE ON versions BEGIN SELECT RAISE(ABORT, 'versions are immutable'); END;
  CREATE TRIGGER versions_kept BEFORE DELETE ON versions BEGIN SELECT RAISE(ABORT, 'versions are immutable'); END;
  CREATE TRIGGER ledger_append_only BEFORE UPDATE ON ledger BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
  CREATE TRIGGER ledger_kept BEFORE DELETE ON ledger BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
  `,
  /*
   * 2: the messages of the local queues. A row lives until a consumer deletes it with its latest
   * receipt handle, so a crash at any point loses nothing (at-least-once, as SQS). Times are ms
   * since the epoch; `visible_at` later than now means in flight (or delayed, if never received).
   * Queue traffic is not a change of state the ledger records: no trigger, no ledger row.
   */ `
  CREATE TABLE queue_messages (
    seq                INTEGER PRIMARY KEY,
    id                 TEXT NOT NULL UNIQUE,
    queue              TEXT NOT NULL,
    body               TEXT NOT NULL,
    attributes         TEXT NOT NULL DEFAULT '{}',
    sender_id          TEXT,
    sent_at            INTEGER NOT NULL,
    visible_at         INTEGER NOT NULL,
    receive_count      INTEGER NOT NULL DEFAULT 0,
    first_received_at  INTEGER,
    receipt_handle     TEXT UNIQUE,
    dead_letter_source TEXT
  );
  CREATE INDEX queue_messages_by_visibility ON queue_messages (queue, visible_at, seq);
  `,
  /*
   * 3: the promotion journal and the app's lock. A promotion's progress is one JSON document,
   * rewritten after every step (the journal a resume reads back); the changes the steps make
   * are in the ledger, with the promotion's id in their detail. At most one lock row (the app
   * is the whole database), so holding it is an INSERT that fails while another row exists.
   */ `
  CREATE TABLE promotions (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL CHECK (kind IN ('promote', 'deploy')),
    release_id  TEXT NOT NULL REFERENCES releases(id),
    target      TEXT NOT NULL,
    status      TEXT NOT NULL,
    state_json  TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    started_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    finished_at TEXT
  );
  CREATE INDEX promotions_by_status ON promotions (status, seq);

  CREATE TABLE locks (
    name         TEXT PRIMARY KEY,
    token        TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    host         TEXT NOT NULL,
    operation    TEXT NOT NULL,
    since        TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL
  );
  `,
  /*
   * 4: the local secret store, and the credential-scan findings a release let through.
   *
   * A secret revision is written once and never changed: `secret set` adds a revision (and a
   * published version keeps using the revision it pinned, as a Lambda version keeps its
   * environment), `secret rm` deletes every revision of the name. Values are AES-256-GCM
   * ciphertext; the key never touches this database, only its id (to tell a wrong key from a
   * damaged value). AUTOINCREMENT: a revision number is never reused, even after a delete.
   */ `
  CREATE TABLE secrets (
    revision    INTEGER PRIMARY KEY AUTOINCREMENT,
    environment TEXT NOT NULL,
    name        TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    iv          BLOB NOT NULL,
    tag         BLOB NOT NULL,
    ciphertext  BLOB NOT NULL,
    set_at      TEXT NOT NULL,
    set_by      TEXT NOT NULL
  );
  CREATE INDEX secrets_by_name ON secrets (environment, name, revision);
  CREATE TRIGGER secrets_immutable BEFORE UPDATE ON secrets BEGIN SELECT RAISE(ABORT, 'secret revisions are immutable'); END;

  CREATE TABLE release_allowed_credentials (
    release_id TEXT NOT NULL REFERENCES releases(id),
    file       TEXT NOT NULL,
    line       INTEGER NOT NULL,
    rule       TEXT NOT NULL,
    allowed_by TEXT NOT NULL,
    reason     TEXT NOT NULL,
    PRIMARY KEY (release_id, file, line, rule)
  );
  CREATE TRIGGER release_allowed_credentials_immutable BEFORE UPDATE ON release_allowed_credentials BEGIN SELECT RAISE(ABORT, 'releases are immutable'); END;
  CREATE TRIGGER release_allowed_credentials_kept BEFORE DELETE ON release_allowed_credentials BEGIN SELECT RAISE(ABORT, 'releases are immutable'); END;
  `,
  /*
   * 5: deleting versions (`prune`, `destroy`) and short-lived environments. A version still never
   * changes, and is deleted only together with its tombstone in `deleted_versions` (written in the
   * same transaction as the ledger record), so a version number is never used twice.
   * `environments` holds the ephemeral environments `deploy --ephemeral` made: who, which branch,
   * copied from which chain environment, when they expire.
   */ `
  CREATE TABLE deleted_versions (
    instance   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    deleted_at TEXT NOT NULL,
    PRIMARY KEY (instance, version)
  );
  DROP TRIGGER versions_kept;
  CREATE TRIGGER versions_kept BEFORE DELETE ON versions
    WHEN NOT EXISTS (SELECT 1 FROM deleted_versions d WHERE d.instance = OLD.instance AND d.version = OLD.version)
    BEGIN SELECT RAISE(ABORT, 'versions are immutable; one is deleted only with its tombstone'); END;

  CREATE TABLE environments (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    branch     TEXT NOT NULL,
    from_env   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    expires_at TEXT NOT NULL
  );
  `,
  /*
   * 6: secret revisions numbered per secret (environment and name), not across the store: a
   * counter per secret that `secret rm` leaves in place, so a number is never reused for a
   * secret and a version that pinned a removed revision never opens a new value. Existing rows
   * keep their numbers (unique within their secret), and removed secrets' counters come from the ledger.
   */ `
  ALTER TABLE secrets ADD COLUMN number INTEGER;
  UPDATE secrets SET number = revision;
  CREATE TABLE secret_counters (environment TEXT NOT NULL, name TEXT NOT NULL, last INTEGER NOT NULL, PRIMARY KEY (environment, name));
  INSERT INTO secret_counters (environment, name, last)
    SELECT environment, name, MAX(last) FROM (
      SELECT environment, name, revision AS last FROM secrets
      UNION ALL
      SELECT environment, json_extract(detail, '$.name'), json_extract(detail, '$.revision') FROM ledger WHERE kind = 'secret.set' AND environment IS NOT NULL
    ) GROUP BY environment, name;
  CREATE INDEX secrets_by_number ON secrets (environment, name, number);
  `,
  /* 7: per-version invocation metrics of the local runtime, in 10-second buckets (metrics.ts) */ `
  CREATE TABLE metrics (
    instance    TEXT NOT NULL,
    alias       TEXT NOT NULL,
    version     INTEGER NOT NULL,
    bucket      INTEGER NOT NULL,
    invocations INTEGER NOT NULL,
    errors      INTEGER NOT NULL,
    throttles   INTEGER NOT NULL,
    durations   TEXT NOT NULL,
    PRIMARY KEY (instance, alias, version, bucket)
  );
  `,
  /**
   * 8: the ledger's last record of an alias (the aws provider's stand-in for GetAlias, once per alias
   * a promotion moves) and of a kind (`alarms.kept`, …) without reading the whole ledger.
   */ `
  CREATE INDEX ledger_by_alias ON ledger (instance, alias, seq);
  CREATE INDEX ledger_by_kind ON ledger (kind, seq);
  `,
];
