export type {
  Provider,
  StackSpec,
  InvokeRequest,
  MessageOptions,
  LogTail,
  VersionMetricsQuery,
  AlarmState,
  ArmedAlarm,
  ShiftAlarms,
  VersionSecrets,
} from './provider.js';
export type { AuditedEnvironment, PlatformAudit } from './platform-audit.js';
export { LocalProvider, LOCAL_ACCOUNT, type LocalProviderDeps } from './local/local-provider.js';
export { LocalPlatform, type PlatformOptions, type PlatformUrls } from './local/platform.js';
export { DEFAULT_PREWARM } from './local/prewarm.js';
export { readUpFile, writeUpFile, removeUpFile, upFilePath, type UpFile } from './local/up-file.js';
