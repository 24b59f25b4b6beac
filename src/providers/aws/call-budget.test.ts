import { describe, expect, it } from 'vitest';
import { CallBudget, isBudgeted } from './call-budget.js';

describe('CallBudget', () => {
  it('lets a burst go at once, then spaces calls at the rate', async () => {
    let clock = 0;
    const waits: number[] = [];
    const budget = new CallBudget({
      perSecond: 15,
      burst: 15,
      now: () => clock,
      wait: async (ms) => {
        waits.push(ms);
      },
    });
    for (let call = 0; call < 15; call++) await budget.take();
    expect(waits).toEqual([]);
    await budget.take();
    await budget.take();
    expect(waits.map((ms) => Math.round(ms))).toEqual([67, 133]);
    clock = 10_000;
    await budget.take();
    expect(waits).toHaveLength(2);
  });

  it('counts only the operations that share the 15/s quota', () => {
    expect(['GetFunction', 'GetPolicy', 'Invoke'].map(isBudgeted)).toEqual([false, false, false]);
    expect(['UpdateAlias', 'GetAlias', 'PublishVersion'].map(isBudgeted)).toEqual([true, true, true]);
  });
});
