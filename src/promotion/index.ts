export type { AppContext, AppSecrets, Reporter } from './context.js';
export { buildRelease, type BuildResult, type BuiltFunction } from './build-release.js';
export { deploy, resolveRelease, requireEnvironment, type DeployResult, type DeployedFunction } from './deploy.js';
export { appStatus, type AppStatus, type EnvironmentStatus, type FunctionStatus, type AliasStatus } from './status.js';
export { showConfig, diffConfig, type ConfigView, type ConfigDiff, type ConfigDiffKey, type DiffStatus } from './config-view.js';
export { changedKeys } from './config-change.js';
