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
export const STEPS = [
  'pending',
  'passed',
  'backed-up',
  'published',
  'smoke',
  'tested',
  'awaiting-approval',
  'approved',
  'ready',
  'shifting',
  'live',
  'restored',
] as const;
export type Step = (typeof STEPS)[number];

/** The steps at which this promotion may have moved an alias of the environment (or was about to, when it died). */
const ALIASES_MAY_HAVE_MOVED = new Set<Step>([
  'backed-up',
  'published',
  'smoke',
  'tested',
  'awaiting-approval',
  'approved',
  'ready',
  'shifting',
  'live',
]);

export interface FunctionBackup {
  live: number | null;
  smoke: number | null;
}

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
  /** A canary or linear move of `live` (step `shifting`): where it stands and what each step saw. */
  shift?: ShiftState;
}

/** What the new (and old) versions served during one step of a shift, summed over the shifted functions. */
export interface TrafficSeen {
  invocations: number;
  errors: number;
  throttles: number;
  p99Ms: number | null;
}

export interface ShiftStepReport {
  /** Share of `live`'s traffic on the new version, 0 to 1. */
  weight: number;
  startedAt: string;
  endedAt?: string;
  newVersion?: TrafficSeen;
  oldVersion?: TrafficSeen;
}

/** The alarm a shift breached, with the values that breached it. */
export interface Breach {
  alarm: string;
  metric: string;
  value: number | string | null;
  threshold: number | string | null;
  windowMs: number | null;
  invocations: number | null;
  /** Why the platform's alarm says ALARM (aws: CloudWatch's StateReason). */
  reason?: string;
  from: string;
  to: string;
}

export interface ShiftState {
  /** The policy as written, e.g. `canary 10% 5m`. */
  policy: string;
  /** The weights of the new version, in order, before the final move to 100 %. */
  weights: number[];
  /** How long each weight is held, in ms. */
  holdMs: number;
  /** The step in progress (index into `weights`). */
  index: number;
  steps: ShiftStepReport[];
  breach?: Breach;
}

export interface PromotionFailure {
  environment: string;
  step: Step;
  reason: string;
  details?: string[];
  breach?: Breach;
}

export interface PromotionRefusal {
  environment: string;
  reason: string;
  remainingMs: number;
  eligibleAt: string;
}

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
