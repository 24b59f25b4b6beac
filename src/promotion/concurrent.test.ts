import { describe, expect, it } from 'vitest';
import { eachConcurrently } from './concurrent.js';

describe('eachConcurrently', () => {
  it('keeps at most `limit` items in flight and returns results in order', async () => {
    let inFlight = 0;
    let most = 0;
    const gates: (() => void)[] = [];
    const run = eachConcurrently(
      [1, 2, 3, 4, 5],
      async (n) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise<void>((resolve) => gates.push(resolve));
        inFlight -= 1;
        return n * 10;
      },
      2,
    );
    while (gates.length > 0 || inFlight > 0) {
      await Promise.resolve();
      gates.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await run).toEqual([10, 20, 30, 40, 50]);
    expect(most).toBe(2);
  });

  it('starts nothing after a failure, lets the ones in flight finish, then throws the first error', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const failure = eachConcurrently(
      [1, 2, 3, 4],
      async (n) => {
        started.push(n);
        await new Promise((resolve) => setImmediate(resolve));
        if (n === 1) throw new Error('one failed');
        await new Promise((resolve) => setImmediate(resolve));
        finished.push(n);
        return n;
      },
      2,
    );
    await expect(failure).rejects.toThrow('one failed');
    expect(started).toEqual([1, 2]);
    expect(finished).toEqual([2]);
  });
});
