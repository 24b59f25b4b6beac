/**
 * A client-side token bucket for Lambda's control-plane calls: every one but GetFunction, GetPolicy and
 * Invoke shares 15 calls per second per account and region, not increasable
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html#api-requests).
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Lambda operations outside the shared 15/s budget: each has a quota of its own. */
const UNBUDGETED = new Set(['GetFunction', 'GetPolicy', 'Invoke']);

export function isBudgeted(operation: string): boolean {
  return !UNBUDGETED.has(operation);
}

export interface CallBudgetOptions {
  /** Calls per second in the long run; Lambda's own limit by default. */
  perSecond?: number;
  /** Calls that may go at once after a quiet spell. */
  burst?: number;
  now?: () => number;
  wait?: (ms: number) => Promise<unknown>;
}

/**
 * Waiting here rather than being answered 429 keeps retries (and their backoff) for what other
 * processes of the account spend; the SDK's adaptive retry mode handles that share. Calls go in the
 * order they asked (GCRA: each takes the next slot of the theoretical schedule).
 */
export class CallBudget {
  private readonly interval: number;
  private readonly tolerance: number;
  private readonly now: () => number;
  private readonly wait: (ms: number) => Promise<unknown>;
  /** When the schedule is next free, in `now()` milliseconds. */
  private scheduled = 0;

  constructor(options: CallBudgetOptions = {}) {
    this.interval = 1000 / (options.perSecond ?? 15);
    this.tolerance = ((options.burst ?? options.perSecond ?? 15) - 1) * this.interval;
    this.now = options.now ?? Date.now;
    this.wait = options.wait ?? sleep;
  }

  /** Resolves when one more call may go. */
  async take(): Promise<void> {
    const now = this.now();
    const slot = Math.max(this.scheduled, now);
    this.scheduled = slot + this.interval;
    const delay = slot - this.tolerance - now;
    if (delay > 0) await this.wait(delay);
  }
}
