/** Stagecraft's library API: what the CLI is built from, for tools that drive it directly. */
export { StagecraftError, isStagecraftError, exitCodeOf, EXIT, type ErrorCode, type ErrorKind } from './errors.js';
export { sha256Hex, stableStringify, digestOf } from './digest.js';
export {
  loadManifest,
  parseManifest,
  instanceName,
  aliasName,
  resolveConfig,
  resourceName,
  MANIFEST_FILE,
  type LoadedManifest,
  type Manifest,
  type FunctionDef,
  type EnvironmentDef,
  type EventDef,
  type SmokeTestDef,
  type ResolvedConfig,
} from './manifest/index.js';
export { StateStore, type LedgerEntry, type Release, type VersionRecord, type AliasRecord } from './state/index.js';
export { ArtifactStore } from './release/index.js';
export { LocalProvider, type Provider, type StackSpec, type InvokeRequest } from './providers/index.js';
export {
  buildRelease,
  deploy,
  promote,
  approve,
  rollback,
  doctor,
  appStatus,
  type AppContext,
  type BuildResult,
  type PromotionOutcome,
  type AppStatus,
} from './promotion/index.js';
export { showConfig, diffConfig, type ConfigView, type ConfigDiff } from './promotion/index.js';
export { SecretStore, KEY_VARIABLE } from './secrets/index.js';
export { scanForCredentials, type CredentialScan, type CredentialFinding } from './release/index.js';
