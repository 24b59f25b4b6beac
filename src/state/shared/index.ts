/**
 * Shared state in DynamoDB (`state: { backend: dynamodb }`): the promotion lock, and a copy of the
 * ledger and releases every machine reads, for any provider. A door of its own, loaded only by apps
 * that use it, so that the SQLite state starts without the AWS SDK.
 */
export { StateTable } from './state-table.js';
export { DynamoDbLock, type DynamoDbLockOptions } from './dynamodb-lock.js';
export { SharedLedger } from './shared-ledger.js';
