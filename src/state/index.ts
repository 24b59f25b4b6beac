export { StateStore, type StateStoreOptions } from './store.js';
export type { LedgerEntry, NewLedgerEntry, LedgerQuery } from './ledger.js';
export type { Release, NewRelease, ReleaseFunction, AllowedCredential } from './releases.js';
export type { SecretRepo, SealedValue, SecretRevision, SecretSummary } from './secrets.js';
export type { ChangeMeta, NewVersion, VersionRecord, AliasRecord, AliasTarget } from './control-plane.js';
export { QUEUE_LIMITS, type QueueRepo, type QueueMessage, type ReceivedMessage, type MessageAttributes, type MessageAttributeValue, type SendOptions, type Redrive, type QueueCounts } from './queues.js';
export { PromotionRepo, UNFINISHED_STATUSES, type PromotionRecord, type PromotionKind, type PromotionStatus } from './promotions.js';
export { LockRepo, type LockRow } from './locks.js';
export { AuditRepo, IMMUTABILITY_TRIGGERS, type AliasLedgerMismatch } from './audit.js';
