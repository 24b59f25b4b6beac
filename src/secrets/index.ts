/**
 * The local secret store: AES-256-GCM sealed values in the state database, a key kept outside
 * the project, and the resolution of `${secret:…}` at deploy time and when a version starts.
 * This file is the folder's only door.
 */
export { SecretStore, SECRET_NAME, MAX_SECRET_BYTES, type OpenedConfig } from './store.js';
export { findKey, findOrCreateKey, keyFilePath, keyId, KEY_VARIABLE, type KeyOptions, type SecretKey } from './key.js';
