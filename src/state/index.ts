export { StateStore, type StateStoreOptions } from './store.js';
export type { LedgerEntry, NewLedgerEntry, LedgerQuery } from './ledger.js';
export type { Release, NewRelease, ReleaseFunction, AllowedCredential } from './releases.js';
export type { SecretRepo, SealedValue, SecretRevision, SecretSummary } from './secrets.js';
export type { ChangeMeta, NewVersion, VersionRecord, AliasRecord, AliasTarget } from './control-plane.js';
export {
  QUEUE_LIMITS,
  checkMessage,
  type QueueRepo,
  type QueueMessage,
  type ReceivedMessage,
  type MessageAttributes,
  type MessageAttributeValue,
  type SendOptions,
  type Redrive,
  type QueueCounts,
} from './queues.js';
export {
  PromotionRepo,
  UNFINISHED_STATUSES,
  type PromotionRecord,
  type PromotionKind,
  type PromotionStatus,
} from './promotions.js';
export {
  LockRepo,
  deadHolder,
  lockLost,
  processIsAlive,
  type LockRow,
  type LockHolder,
  type PromotionLock,
} from './locks.js';
export { MetaRepo } from './meta.js';
export { AuditRepo, IMMUTABILITY_TRIGGERS, type AliasLedgerMismatch } from './audit.js';
export type { EphemeralEnvironment } from './environments.js';
export {
  BACKUPS_KEPT,
  backupsDir,
  listBackups,
  newestGoodBackup,
  restoreBackup,
  verifyDatabase,
  type BackupInfo,
} from './backups.js';
export { assertStateNotLost } from './health.js';
export { scheduleBackups } from './backup-schedule.js';
export { MetricsRepo, METRIC_BUCKET_MS, DURATION_BOUNDS_MS, type MetricSample, type MetricSummary } from './metrics.js';
