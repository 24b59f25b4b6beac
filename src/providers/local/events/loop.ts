/**
 * The polling loop shared by the queue poller and the asynchronous invoker: `step` runs again at
 * once while it reports more work, after a short idle delay otherwise, in `concurrency` lanes.
 * Only one idle lane polls: the others wait until it takes work (`step` calls `took`), and then one
 * of them polls at once, so a burst still fills every lane while an idle app of fifty functions
 * does not read its queues a thousand times a second. `stop` wakes idle lanes and waits for the
 * work in flight to finish.
 */
import { sleep, type Clock } from './clock.js';

export interface LoopOptions {
  clock: Clock;
  idleDelayMs: number;
  concurrency: number;
  onError: (error: unknown) => void;
}

export class PollingLoop {
  private active = false;
  private lanes: Promise<void>[] = [];
  private readonly sleepers = new Set<() => void>();
  /** Lanes waiting for their turn to poll (one other lane polls meanwhile). */
  private readonly parked = new Set<() => void>();
  /** Lanes in their idle pause: the ones that poll. */
  private idle = 0;

  /**
   * `step` resolves true when it found a full batch (so there is probably more right away), and
   * calls `took` as soon as it has taken work, before doing it.
   */
  constructor(
    private readonly step: (took: () => void) => Promise<boolean>,
    private readonly options: LoopOptions,
  ) {}

  get running(): boolean {
    return this.active;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.lanes = Array.from({ length: Math.max(1, this.options.concurrency) }, () => this.lane());
  }

  async stop(): Promise<void> {
    this.active = false;
    this.wake();
    await Promise.all(this.lanes);
    this.lanes = [];
  }

  /** Ends the idle pauses now, e.g. because work was just added in this process. */
  wake(): void {
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
    for (const unpark of this.parked) unpark();
    this.parked.clear();
  }

  private async lane(): Promise<void> {
    const took = (): void => this.unparkOne();
    while (this.active) {
      let more = false;
      try {
        more = await this.step(took);
      } catch (error) {
        this.options.onError(error);
      }
      if (!this.active || more) continue;
      if (this.idle > 0) {
        await new Promise<void>((resolve) => this.parked.add(resolve));
        continue;
      }
      this.idle += 1;
      try {
        await sleep(this.options.clock, this.options.idleDelayMs, {
          onWake: (wake) => {
            this.sleepers.add(wake);
            return () => this.sleepers.delete(wake);
          },
        });
      } finally {
        this.idle -= 1;
      }
    }
  }

  /** A lane took work: one waiting lane polls now in its place. */
  private unparkOne(): void {
    for (const unpark of this.parked) {
      this.parked.delete(unpark);
      unpark();
      return;
    }
  }
}

/**
 * A source of work driven by a `PollingLoop` (a queue's event source mapping, the async
 * invocation queue): starting, waking and stopping it are its loop's.
 */
export abstract class LoopDriven {
  protected abstract readonly loop: PollingLoop;

  start(): void {
    this.loop.start();
  }

  /** Polls now instead of after the idle pause (work was just added in this process). */
  wake(): void {
    this.loop.wake();
  }

  /** Stops taking work and waits for what is in flight to be settled. */
  stop(): Promise<void> {
    return this.loop.stop();
  }
}
