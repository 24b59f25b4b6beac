/**
 * What every operation on an app needs, passed in rather than imported: the manifest, the
 * state store, the artifact store, the provider, the promotion lock, who is acting, and where
 * progress goes.
 */
import type { ArtifactStore } from '../release/index.js';
import type { LoadedManifest, SecretValue } from '../manifest/index.js';
import type { Provider } from '../providers/index.js';
import type { LedgerEntry, LedgerQuery, Release, StateStore } from '../state/index.js';
import type { PromotionLock } from './lock.js';

export interface Reporter {
  progress(message: string): void;
  warn(message: string): void;
}

/** The app's secret store as operations see it: whether a secret is set, and its current value at deploy time. */
export interface AppSecrets {
  /** `${secret:NAME}` of one environment: the current value and its revision, undefined when not set. */
  forEnvironment(env: string): (name: string) => SecretValue | undefined;
  /** Whether a secret is set, without opening it (no key needed). */
  isSet(env: string, name: string): boolean;
  /** Every stored value, opened, for `doctor` to look for in clear; undefined without a key. */
  allValues(): string[] | undefined;
}

export interface AppContext {
  loaded: LoadedManifest;
  store: StateStore;
  artifacts: ArtifactStore;
  provider: Provider;
  /** One promotion at a time: held by promote, deploy, approve and rollback. */
  lock: PromotionLock;
  /** Who is acting, for the ledger: STAGECRAFT_ACTOR, else the git user, else the OS user. */
  actor: string;
  /** The deploying process's environment, for `${env:…}` references. */
  env: Record<string, string | undefined>;
  /** The secret store, for `${secret:…}` references. */
  secrets: AppSecrets;
  report: Reporter;
  /** Aborted when the person asks to stop (Ctrl-C): a traffic shift in progress rolls back. */
  interrupt?: AbortSignal;
  /**
   * With shared state (DynamoDB), the releases every machine built: a release this machine does
   * not know is taken from there, so one CI runner can promote what another built.
   */
  sharedReleases?: () => Promise<Release[]>;
  /** With shared state (DynamoDB): the team's ledger, every machine's records in one order. */
  sharedLedger?: { list(query: LedgerQuery): Promise<LedgerEntry[]> };
}
