import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { PollingLoop } from './loop.js';

const IDLE_MS = 100;

/** A loop on a manual clock, its errors ignored. */
const loopOf = (clock: ManualClock, concurrency: number, step: (took: () => void) => Promise<boolean>): PollingLoop =>
  new PollingLoop(step, { clock, idleDelayMs: IDLE_MS, concurrency, onError: () => undefined });

describe('PollingLoop', () => {
  it('polls once per idle pause however many lanes it has', async () => {
    const clock = new ManualClock();
    let polls = 0;
    const loop = loopOf(clock, 10, async () => {
      polls += 1;
      return false;
    });
    loop.start();
    await clock.advance(0);
    const atStart = polls;
    await clock.advance(IDLE_MS * 20);
    // One lane polls each pause; ten lanes polling on their own would make 200.
    expect(polls - atStart).toBe(20);
    await loop.stop();
  });

  it('fills every lane at once when work arrives unannounced', async () => {
    const clock = new ManualClock();
    const queue: number[] = [];
    const running = new Set<number>();
    const finish: (() => void)[] = [];
    let mostAtOnce = 0;
    let polls = 0;
    const loop = loopOf(clock, 3, async (took) => {
      polls += 1;
      const item = queue.shift();
      if (item === undefined) return false;
      took();
      running.add(item);
      mostAtOnce = Math.max(mostAtOnce, running.size);
      await new Promise<void>((resolve) => finish.push(resolve));
      running.delete(item);
      // As the asynchronous invoker does: work done, so look again at once.
      return true;
    });
    loop.start();
    await clock.advance(IDLE_MS * 3);
    // Written by another process: no wake(), the next poll finds it.
    queue.push(1, 2, 3, 4, 5);
    await clock.advance(IDLE_MS);
    expect(mostAtOnce).toBe(3);
    expect(queue).toEqual([4, 5]);
    // A lane that finishes takes the next item without waiting for a pause.
    finish.shift()?.();
    await clock.advance(0);
    expect(queue).toEqual([5]);
    for (const done of finish.splice(0)) done();
    await clock.advance(0);
    expect(queue).toEqual([]);
    while (finish.length > 0 || running.size > 0) {
      for (const done of finish.splice(0)) done();
      await clock.advance(0);
    }
    // Drained: back to one idle poller.
    await clock.advance(IDLE_MS);
    const before = polls;
    await clock.advance(IDLE_MS * 5);
    expect(polls - before).toBe(5);
    await loop.stop();
  });

  it('wakes every lane when work is added in this process', async () => {
    const clock = new ManualClock();
    const queue: number[] = [];
    let taken = 0;
    const loop = loopOf(clock, 4, async (took) => {
      if (queue.shift() === undefined) return false;
      took();
      taken += 1;
      return false;
    });
    loop.start();
    await clock.advance(IDLE_MS);
    queue.push(1, 2, 3, 4);
    loop.wake();
    await clock.advance(0);
    expect(taken).toBe(4);
    await loop.stop();
  });
});
