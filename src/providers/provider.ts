/**
 * What Stagecraft needs from a platform, and nothing more: the shape of the Lambda control
 * plane (publish an immutable version, move an alias with optional traffic weights, invoke a
 * qualifier) plus "make the environment's stack exist", and the two data-plane calls the CLI
 * makes for people (put a message on a queue, read a function's logs), so that `send` and `logs`
 * reach the platform the app runs on. The local provider implements it over
 * the SQLite control plane and child processes; an AWS provider implements it over
 * PublishVersion / UpdateAlias / Invoke and CloudFormation, without change to this interface.
 *
 * Every state-changing call takes a `ChangeMeta` so that the provider writes the change and
 * its ledger record together (DESIGN §5, invariant 4).
 */
import type { AlarmDef, Manifest } from '../manifest/index.js';
import type { InvokeOutcome, LogEntry } from '../runtime/index.js';
import type {
  AliasRecord,
  AliasTarget,
  ChangeMeta,
  MessageAttributes,
  MetricSummary,
  NewVersion,
  VersionRecord,
} from '../state/index.js';
import type { AuditedEnvironment, PlatformAudit } from './platform-audit.js';

export interface StackSpec {
  app: string;
  environment: string;
  strategy: Manifest['strategy'];
  /** The function instances of this environment (shared by every environment in single-stack). */
  functions: { function: string; instance: string }[];
  resources: Manifest['resources'];
  /**
   * The functions' definitions (events, destinations) from the release's manifest. Providers that
   * bind event sources to functions (aws) read them here; when absent, the app's manifest is used.
   */
  definitions?: Manifest['functions'];
}

export interface InvokeRequest {
  instance: string;
  /** An alias name, or a version number as text (`"3"`), as Lambda's Qualifier. */
  qualifier: string;
  /** The event, as JSON text. */
  payload: string;
}

export interface MessageOptions {
  attributes?: MessageAttributes;
  /** SQS `DelaySeconds`, in ms: 0 to 15 minutes (whole seconds on SQS). */
  delayMs?: number;
}

/** The newest log entries of a function instance, and how to keep reading after them. */
export interface LogTail {
  /** Oldest first. */
  entries: LogEntry[];
  /** Where the entries are kept (a file of the local sink, a CloudWatch Logs group), for people and `--json`. */
  source: { file: string } | { logGroup: string };
  /** Nothing was ever logged for the instance: no file, no log group. */
  empty: boolean;
  /** Hands every entry written after this tail to `onEntries`, in order, until `signal` aborts. */
  follow(onEntries: (entries: LogEntry[]) => void, signal: AbortSignal): Promise<void>;
}

/** The traffic of one version behind an alias over a time range, for a shift's alarms. */
export interface VersionMetricsQuery {
  instance: string;
  alias: string;
  version: number;
  sinceMs: number;
  untilMs: number;
}

/** A platform alarm (aws: CloudWatch) as a shift reads it. */
export interface AlarmState {
  alarm: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA' | 'MISSING';
  reason?: string;
  /** The value that put it in its state, when the platform says (CloudWatch's `recentDatapoints`). */
  value?: number;
  /** When it entered its state (ISO). */
  since?: string;
}

/** The manifest's alarms of one environment, to be watched on the versions a shift brings to `live`. */
export interface ShiftAlarms {
  environment: string;
  alarms: AlarmDef[];
  targets: { function: string; instance: string; alias: string; version: number }[];
  /** The shift begins now (not resumed after a crash): a state left by an earlier version is no breach of this one. */
  begins: boolean;
}

/** A platform alarm that watches `alarms[index]` of a ShiftAlarms for one function. */
export interface ArmedAlarm {
  function: string;
  index: number;
  name: string;
  /** The platform's window for the alarm (aws: whole minutes). */
  windowMs: number;
}

/**
 * How a provider gets a version's secret values (src/secrets, wired by the CLI): the version's
 * stored config pins `${secret:…}` references to a revision, opened only where they are needed.
 */
export interface VersionSecrets {
  /** The version's environment with its secrets opened, and the values to mask in what it prints. */
  resolveVersion(version: VersionRecord): { environment: Record<string, string>; secrets: string[] };
}

export interface Provider {
  readonly kind: Manifest['provider'];
  /** Creates what the environment needs (function instances, queues, tables …); a no-op when it exists. */
  ensureStack(stack: StackSpec, change: ChangeMeta): Promise<void>;
  /** Publishes a version; identical code and config to the newest version returns that one (`created: false`). */
  publishVersion(spec: NewVersion, change: ChangeMeta): Promise<{ version: VersionRecord; created: boolean }>;
  getAlias(instance: string, alias: string): Promise<AliasRecord | undefined>;
  /** Points an alias at an existing version, optionally sending `extra.weight` of the traffic to a second version. */
  updateAlias(target: AliasTarget, change: ChangeMeta): Promise<AliasRecord>;
  /** Removes an alias (a rollback of an environment's first deploy); a missing alias is a no-op. */
  deleteAlias(instance: string, alias: string, change: ChangeMeta): Promise<void>;
  listVersions(instance: string): Promise<VersionRecord[]>;
  /** One version, without listing them all (aws: GetFunction, outside Lambda's shared 15 calls/s). */
  getVersion?(instance: string, version: number): Promise<VersionRecord | undefined>;
  /** The code and stored config of the instance's newest version, where that is cheaper than listing versions. */
  newestConfig?(instance: string): Promise<{ sha256: string; config: Record<string, string> } | undefined>;
  /**
   * Deletes a version no alias points at (`prune`), recorded in the ledger; a missing version is a
   * no-op. The number is never given to another version.
   */
  deleteVersion(instance: string, version: number, change: ChangeMeta): Promise<void>;
  /**
   * Removes everything of one environment (`destroy`): its aliases and their event bindings, its
   * versions and function instances (the environment's own; single-stack keeps the shared
   * function), queues with their messages, tables with their data, logs, and (aws) its stack.
   * Each change is in the ledger; artifacts and the ledger stay. Returns what it removed, for people.
   */
  destroyEnvironment(stack: StackSpec, change: ChangeMeta): Promise<string[]>;
  invoke(request: InvokeRequest): Promise<InvokeOutcome>;
  /**
   * The base URL of the gateway serving `environment` right now, once it has read every alias
   * change (local: a running `stagecraft up`'s), so that smoke tests reach the gateway its users
   * do; undefined (or absent) where smoke tests go through a gateway of their own over `invoke`.
   */
  servingGateway?(environment: string): Promise<string | undefined>;
  /** Puts a message on a queue, named as the platform names it (`resourceName`); returns SQS's MessageId. */
  sendMessage(queue: string, body: string, options?: MessageOptions): Promise<{ messageId: string }>;
  /** The last `limit` log entries of a function instance (every version), oldest first. */
  readLogs(instance: string, limit: number): Promise<LogTail>;
  /**
   * Checks what the platform holds beyond versions and aliases (aws: stacks, event bindings)
   * against what Stagecraft applied, for `doctor`. Absent where the state store is the whole
   * truth (local), which `doctor` audits itself.
   */
  audit?(environments: AuditedEnvironment[]): Promise<PlatformAudit[]>;
  /**
   * Whether the platform's own artifact store holds `sha256` (aws: the S3 bucket, where S3
   * checked the bytes against their SHA-256 on upload). A release another machine built and
   * this one took from the shared state has no local copy; its artifacts live there. Absent
   * where the local artifact store is the only one.
   */
  hasArtifact?(sha256: string): Promise<boolean>;
  /**
   * Puts an artifact of the local store into the platform's own store now (aws: S3), so that a
   * runner that did not build the release can deploy it (a CI pipeline's later steps). Absent
   * where the local artifact store is the only one.
   */
  storeArtifact?(sha256: string, fn: string): Promise<void>;
  /**
   * Invocations, errors, throttles and p99 of one version reached through an alias (local: the
   * runtime's buckets in the state database; aws: CloudWatch's `Resource`/`ExecutedVersion` metrics).
   */
  versionMetrics?(query: VersionMetricsQuery): Promise<MetricSummary>;
  /** The states of platform alarms named by name or ARN (aws: CloudWatch DescribeAlarms). Absent where there are none. */
  alarmStates?(alarms: string[]): Promise<AlarmState[]>;
  /**
   * Points the platform alarms that judge the environment's errorRate / p99 / throttles alarms at the versions a
   * shift brings (aws: the CloudWatch alarms the deploy keeps, `ExecutedVersion`); the shift then reads their states
   * through `alarmStates`. Absent where the shift judges those alarms itself from `versionMetrics` (local).
   */
  armShiftAlarms?(shift: ShiftAlarms, change: ChangeMeta): Promise<ArmedAlarm[]>;
}
