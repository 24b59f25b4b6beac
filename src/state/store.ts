/**
 * The state database: one SQLite file per app (`.stagecraft/state.db`), WAL mode so readers
 * (a running `up`, `status`) never block a writer, foreign keys on, numbered migrations.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StagecraftError } from '../errors.js';
import { AuditRepo } from './audit.js';
import { takeBackup, type BackupInfo } from './backups.js';
import { ControlPlaneRepo } from './control-plane.js';
import { EnvironmentRepo } from './environments.js';
import { corruptState, isCorruption, markState } from './health.js';
import { LedgerRepo } from './ledger.js';
import { LockRepo } from './locks.js';
import { MetaRepo } from './meta.js';
import { MetricsRepo } from './metrics.js';
import { MIGRATIONS } from './migrations.js';
import { PromotionRepo } from './promotions.js';
import { QueueRepo } from './queues.js';
import { ReleaseRepo } from './releases.js';
import { SecretRepo } from './secrets.js';
import { Database } from './sqlite.js';

export interface StateStoreOptions {
  /** The clock, passed in so that tests (and soak times) can move it. */
  now?: () => Date;
  /** Open an existing database without changing it (no migrations run). */
  readonly?: boolean;
}

export class StateStore {
  readonly ledger: LedgerRepo;
  readonly releases: ReleaseRepo;
  readonly control: ControlPlaneRepo;
  /** The local queues' messages: data, not state changes, so never in the ledger. */
  readonly queues: QueueRepo;
  /** The promotion journal: where every promotion and deploy is, step by step. */
  readonly promotions: PromotionRepo;
  readonly locks: LockRepo;
  /** Facts for `stagecraft doctor`. */
  readonly audit: AuditRepo;
  /** Facts about this database, such as how far its ledger was copied to a shared state table. */
  readonly meta: MetaRepo;
  /** The local secret store's sealed values; opening them is `src/secrets`' business. */
  readonly secrets: SecretRepo;
  /** The ephemeral environments (`deploy --ephemeral`) and when they expire. */
  readonly environments: EnvironmentRepo;
  readonly metrics: MetricsRepo;

  private constructor(
    private readonly db: Database,
    readonly path: string,
    now: () => Date,
  ) {
    this.ledger = new LedgerRepo(db, now);
    this.releases = new ReleaseRepo(db, this.ledger, now);
    this.control = new ControlPlaneRepo(db, this.ledger, now);
    this.queues = new QueueRepo(db, now);
    this.promotions = new PromotionRepo(db, now);
    this.meta = new MetaRepo(db);
    this.locks = new LockRepo(db);
    this.audit = new AuditRepo(db);
    this.now = now;
    this.secrets = new SecretRepo(db, this.ledger, now);
    this.environments = new EnvironmentRepo(db, this.ledger, now);
    this.metrics = new MetricsRepo(db);
  }

  /** The store's clock, for everything that stamps or compares times against stored ones. */
  readonly now: () => Date;

  static open(path: string, options: StateStoreOptions = {}): StateStore {
    if (!options.readonly) mkdirSync(dirname(path), { recursive: true });
    let db: Database;
    try {
      db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    } catch (cause) {
      if (isCorruption(cause)) throw corruptState(path, cause);
      throw new StagecraftError('STATE_FAILED', `cannot open the state database ${path}: ${(cause as Error).message}`, {
        cause,
      });
    }
    try {
      db.pragma('busy_timeout = 5000');
      if (!options.readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
      db.pragma('foreign_keys = ON');
      if (!options.readonly) migrate(db, path);
      else checkVersion(db, path);
      // A corrupt file may open and fail only on the page a later query reads: look at every page now.
      if (path !== ':memory:') quickCheck(db);
    } catch (error) {
      db.close();
      throw isCorruption(error) ? corruptState(path, error) : error;
    }
    if (!options.readonly && path !== ':memory:') markState(path);
    return new StateStore(db, path, options.now ?? (() => new Date()));
  }

  /** A verified snapshot under `.stagecraft/backups/` (SQLite's online backup API); the oldest beyond 20 are dropped. */
  async backup(reason: string): Promise<BackupInfo | undefined> {
    if (this.path === ':memory:') return undefined;
    return takeBackup(this.db, this.path, reason, this.now());
  }

  /** Runs `work` in one transaction: every change and its ledger record commit together or not at all. */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  /**
   * A number that changes whenever another connection commits to the database, so that a
   * long-running process notices changes made by other commands without re-reading everything.
   */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  /**
   * A mark that changes whenever the ledger or the promotion journal changes, in any process:
   * the dashboard's change feed polls it (the ledger's MAX by its key; the journal holds a row per promotion).
   */
  changeMark(): string {
    const row = this.db
      .prepare(
        `SELECT (SELECT COALESCE(MAX(seq), 0) FROM ledger) AS ledger,
      (SELECT COALESCE(MAX(updated_at), '') FROM promotions) AS promotions`,
      )
      .get() as { ledger: number; promotions: string };
    return `${row.ledger}/${row.promotions}`;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function migrate(db: Database, path: string): void {
  const current = checkVersion(db, path);
  for (let index = current; index < MIGRATIONS.length; index++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[index] as string);
      db.pragma(`user_version = ${index + 1}`);
    }).immediate();
  }
}

function checkVersion(db: Database, path: string): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new StagecraftError(
      'STATE_TOO_NEW',
      `${path} was written by a newer Stagecraft (schema ${current}, this one knows ${MIGRATIONS.length})`,
      {
        hint: 'upgrade stagecraft before using this app',
      },
    );
  }
  return current;
}

function quickCheck(db: Database): void {
  const first = (db.pragma('quick_check') as { quick_check: string }[])[0]?.quick_check ?? 'no answer';
  if (first !== 'ok') throw Object.assign(new Error(first), { code: 'SQLITE_CORRUPT' });
}
