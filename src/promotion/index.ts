export type { AppContext, AppSecrets, Reporter } from './context.js';
export {
  buildRelease,
  shareRelease,
  type BuildResult,
  type BuiltFunction,
  type BuildReleaseOptions,
  type BuildTimings,
} from './build-release.js';
export { approve } from './approve.js';
export { promote, deploy, resolveRelease, requireEnvironment, type PromoteOptions } from './promote.js';
export type { PromotionOutcome } from './engine.js';
export type { PromotionState, EnvironmentProgress, Step } from './journal.js';
export { rollback, type RollbackOptions, type RollbackResult } from './rollback.js';
export { doctor, type DoctorReport, type DoctorCheck } from './doctor/index.js';
export { SqliteLock, processIsAlive, type PromotionLock, type LockHolder } from './lock.js';
export {
  appStatus,
  type AppStatus,
  type EnvironmentStatus,
  type FunctionStatus,
  type AliasStatus,
  type PendingPromotion,
} from './status.js';
export type { SmokeResult } from './smoke/index.js';
export {
  showConfig,
  diffConfig,
  type ConfigView,
  type ConfigDiff,
  type ConfigDiffKey,
  type DiffStatus,
} from './config-view.js';
export { changedKeys } from './config-change.js';
export { describeEntry } from './ledger-text.js';
export {
  diffEnvironments,
  type EnvironmentDiff,
  type FunctionDiff,
  type ConfigKeyChange,
  type SecretChange,
} from './diff.js';
export { prune, DEFAULT_KEEP, type PruneOptions, type PruneResult, type PrunedInstance } from './prune.js';
export {
  deployEphemeral,
  destroy,
  gc,
  type EphemeralOptions,
  type EphemeralDeploy,
  type DestroyOptions,
  type DestroyResult,
  type GcResult,
} from './environments.js';
export {
  devEnvironment,
  publishDev,
  type DevEnvironment,
  type DevPublished,
  type DevPublishOptions,
} from './dev-loop.js';
export { markDevRelease, DEV_RELEASE_KIND } from './dev-release.js';
