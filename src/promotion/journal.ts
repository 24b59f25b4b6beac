/**
 * The journal of one promotion (or deploy): how far each environment of its chain got, what
 * `live` and `smoke` pointed at before it touched them, what it published, what the smoke
 * tests said, who approved. Saved after every step, so that after a crash the engine picks the
 * work up exactly where it stopped; every step can run twice without harm.
 */
import type { SmokeResult } from './smoke/index.js';

/**
 * The steps of one environment, in order. `passed`: the release was already live there.
 * `restored`: a rollback put `live` and `smoke` back to the backup.
 */
export const STEPS = ['pending', 'passed', 'backed-up', 'published', 'smoke', 'tested', 'awaiting-approval', 'approved', 'ready', 'live', 'restored'] as const;
export type Step = (typeof STEPS)[number];

/** The steps at which this promotion may have moved an alias of the environment (or was about to, when it died). */
const ALIASES_MAY_HAVE_MOVED = new Set<Step>(['backed-up', 'published', 'smoke', 'tested', 'awaiting-approval', 'approved', 'ready', 'live']);

export interface FunctionBackup { live: number | null; smoke: number | null }

export interface EnvironmentProgress {
  name: string;
  step: Step;
  /** Per function: the versions `live` and `smoke` pointed at before this promotion (null: none). */
  backup?: Record<string, FunctionBackup>;
  /** Per function: the version published for this release. */
  published?: Record<string, number>;
  /** The functions for which that version is new (the others had identical code and config published already). */
  created?: string[];
  tests?: SmokeResult[];
  approval?: { by: string; at: string };
  soakSkipped?: { reason: string; by: string };
}

export interface PromotionFailure { environment: string; step: Step; reason: string; details?: string[] }

export interface PromotionRefusal { environment: string; reason: string; remainingMs: number; eligibleAt: string }

export interface PromotionState {
  environments: EnvironmentProgress[];
  /** `--skip-soak --reason …`: soak times that would stop this promotion are passed, with the reason recorded. */
  skipSoak?: string;
  failure?: PromotionFailure;
  refusal?: PromotionRefusal;
  /** Why a promotion ended without finishing (superseded, interrupted). */
  note?: string;
}

export function mayHaveMovedAliases(progress: EnvironmentProgress): boolean {
  return ALIASES_MAY_HAVE_MOVED.has(progress.step) && progress.backup !== undefined;
}
