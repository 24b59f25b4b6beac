/**
 * What the dashboard reads and does, passed in by the composition root (`up`, `dashboard`):
 * it never opens a store or a provider itself, so it does not know which provider runs.
 */
import type { Manifest } from '../manifest/index.js';
import type { AppStatus, ConfigView, PromotionOutcome, RollbackResult } from '../promotion/index.js';
import type { LogEntry } from '../runtime/index.js';
import type { LedgerEntry, LedgerQuery, Release } from '../state/index.js';

export interface DashboardSource {
  manifest: Manifest;
  /** What runs where (aliases read from the provider), and the unfinished promotions. */
  status(): Promise<AppStatus>;
  /** The ledger, oldest first: the team's shared one when the state is shared. */
  ledger(query: LedgerQuery): Promise<LedgerEntry[]>;
  /** A release by id (this machine's, or one another machine built); undefined when unknown. */
  release(id: string): Promise<Release | undefined>;
  /** The config `release` gets in `env`, secrets masked (as `config show`). */
  config(env: string, release: string): Promise<ConfigView>;
  /** The newest log entries of a function instance, oldest first. */
  logs(instance: string, limit: number): Promise<LogEntry[]>;
  /** Changes whenever the ledger or a promotion changes, whichever process made the change. */
  changeMark(): Promise<string>;
  /** Extra facts for the matrix (`up`: each environment's gateway URL). */
  urls?(): { name: string; url: string }[];
}

/** The manual buttons: each calls the same library function as its CLI command, as the same actor. */
export interface DashboardActions {
  /** Who the ledger will name: resolved as the CLI resolves it (STAGECRAFT_ACTOR, git user, OS user). */
  actor(): string;
  approve(env: string): Promise<PromotionOutcome>;
  rollback(env: string, reason: string): Promise<RollbackResult>;
  resume(): Promise<PromotionOutcome>;
}
