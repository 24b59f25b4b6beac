/**
 * Time, passed in (DESIGN §7: no hidden singletons): event sources read the time and wait through
 * a `Clock`, so tests drive schedules with a `ManualClock` instead of waiting for minutes.
 */

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** ms since the epoch. */
  now(): number;
  /** Calls `callback` once, `ms` from now. */
  setTimer(callback: () => void, ms: number): Timer;
}

/** Longest delay `setTimeout` takes; longer waits are re-armed by their owner. */
export const MAX_TIMER_MS = 2_147_483_647;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, ms) {
    const handle = setTimeout(callback, Math.min(Math.max(0, ms), MAX_TIMER_MS));
    return { cancel: () => clearTimeout(handle) };
  },
};

/** Resolves after `ms`, or earlier when `signal` wakes it; never rejects. */
export function sleep(clock: Clock, ms: number, signal?: { onWake(wake: () => void): () => void }): Promise<void> {
  return new Promise((resolve) => {
    let release = (): void => undefined;
    const timer = clock.setTimer(() => {
      release();
      resolve();
    }, ms);
    if (signal)
      release = signal.onWake(() => {
        timer.cancel();
        resolve();
      });
  });
}

/**
 * A clock that moves only when told. `advance` fires the timers that fall due in order, each at
 * its own time, and lets the promises they start settle before it fires the next.
 */
export class ManualClock implements Clock {
  private current: number;
  private readonly timers = new Set<{ at: number; seq: number; callback: () => void }>();
  private seq = 0;

  constructor(start: number | Date = 0) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  setTimer(callback: () => void, ms: number): Timer {
    const timer = { at: this.current + Math.max(0, ms), seq: this.seq++, callback };
    this.timers.add(timer);
    return {
      cancel: () => {
        this.timers.delete(timer);
      },
    };
  }

  /** Moves the time forward by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await settle();
      const due = [...this.timers]
        .filter((timer) => timer.at <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers.delete(due);
      this.current = Math.max(this.current, due.at);
      due.callback();
    }
    this.current = target;
    await settle();
  }

  /** How many timers are waiting. */
  get pending(): number {
    return this.timers.size;
  }
}

/** Lets already-resolved promise chains run (several turns, for chains of awaits). */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 5; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}
