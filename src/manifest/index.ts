// Values here must not load the parser (zod, yaml): most commands start from a cached manifest.
export { loadManifest, parseManifest, MANIFEST_FILE, type LoadOptions } from './load.js';
export type { LoadedManifest } from './parse.js';
export { RUNTIMES, HTTP_METHODS, DEFAULT_ALARM_WINDOW_MS, DEFAULT_MIN_INVOCATIONS } from './constants.js';
export type {
  Manifest,
  FunctionDef,
  EnvironmentDef,
  EventDef,
  HttpEventDef,
  SmokeTestDef,
  Runtime,
  CredentialAllowEntry,
  CiSettings,
} from './schema.js';
export type { Target } from './fields.js';
export { instanceName, aliasName, ephemeralEnvironmentName, type AliasRole } from './names.js';
export {
  parseDuration,
  formatDuration,
  parsePercent,
  parseDeploymentPolicy,
  parseSchedule,
  type DeploymentPolicy,
  type Schedule,
} from './units.js';
export {
  parseReferences,
  resolveValue,
  pinnedSecrets,
  fillPinnedSecrets,
  type Reference,
  type ReferenceSources,
  type SecretValue,
} from './interpolate.js';
export {
  resolveConfig,
  describeConfig,
  secretReferences,
  resourceName,
  locatorVariables,
  type ResourceLocator,
  type ResolvedConfig,
  type ConfigEntry,
  type ConfigSource,
} from './config.js';
export { findSecretLiterals, looksLikeSecretKey, type SecretLiteral } from './secret-literals.js';
export { withEphemeral, type EphemeralRef } from './ephemeral.js';
export { parsePythonHandler, pythonHandlerProblem, type PythonHandler } from './python-handler.js';
export type { AlarmDef } from './traffic.js';
