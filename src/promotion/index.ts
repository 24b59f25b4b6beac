export type { AppContext, Reporter } from './context.js';
export { buildRelease, type BuildResult, type BuiltFunction } from './build-release.js';
export { deploy, resolveRelease, requireEnvironment, type DeployResult, type DeployedFunction } from './deploy.js';
export { appStatus, type AppStatus, type EnvironmentStatus, type FunctionStatus, type AliasStatus } from './status.js';
