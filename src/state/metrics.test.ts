/** Per-version metrics in 10-second buckets: sums over a range, the p99 bucket, pruning. */
import { describe, expect, it } from 'vitest';
import { StateStore, type MetricSample } from './index.js';

const sample = (at: number, version: number, durationMs: number, error = false, throttled = false): MetricSample => ({
  instance: 'shop-api-prod',
  alias: 'live',
  version,
  at,
  error,
  throttled,
  durationMs,
});

describe('MetricsRepo', () => {
  it('adds samples into buckets across batches and sums the buckets a range overlaps, per version', () => {
    const store = StateStore.open(':memory:');
    const t0 = 1_700_000_000_000;
    store.transaction(() => store.metrics.add([sample(t0, 2, 3), sample(t0 + 1, 2, 40, true), sample(t0 + 2, 1, 3)]));
    store.transaction(() =>
      store.metrics.add([
        sample(t0 + 3, 2, 3, false, true),
        ...Array.from({ length: 96 }, (_, i) => sample(t0 + 10_000 + i, 2, 4)),
      ]),
    );
    const all = store.metrics.summary({
      instance: 'shop-api-prod',
      alias: 'live',
      version: 2,
      sinceMs: t0,
      untilMs: t0 + 20_000,
    });
    expect(all).toMatchObject({ invocations: 99, errors: 1, throttles: 1 });
    // 98 timed samples (the throttled one has no duration): 97 at ≤ 5 ms, one at 40 ms; rank 98 is in the ≤ 50 ms bucket.
    expect(all.p99Ms).toBe(50);
    expect(
      store.metrics.summary({
        instance: 'shop-api-prod',
        alias: 'live',
        version: 2,
        sinceMs: t0 + 10_000,
        untilMs: t0 + 20_000,
      }),
    ).toMatchObject({ invocations: 96, errors: 0, p99Ms: 5 });
    expect(
      store.metrics.summary({
        instance: 'shop-api-prod',
        alias: 'live',
        version: 1,
        sinceMs: t0,
        untilMs: t0 + 20_000,
      }),
    ).toMatchObject({ invocations: 1 });
    expect(
      store.metrics.summary({
        instance: 'shop-api-prod',
        alias: 'live',
        version: 3,
        sinceMs: t0,
        untilMs: t0 + 20_000,
      }),
    ).toMatchObject({ invocations: 0, p99Ms: null });
    store.transaction(() => store.metrics.prune(t0 + 10_000));
    expect(
      store.metrics.summary({ instance: 'shop-api-prod', alias: 'live', version: 2, sinceMs: t0, untilMs: t0 + 20_000 })
        .invocations,
    ).toBe(96);
  });
});
