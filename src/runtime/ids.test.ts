// Lambda's per-invocation identifiers: formats, and that the pooled randomness never repeats.
import { describe, expect, it } from 'vitest';
import { newRequestId, newTraceId } from './ids.js';

describe('invocation ids', () => {
  it('request ids are version 4 UUIDs, all different across pool refills', () => {
    const ids = Array.from({ length: 1000 }, () => newRequestId());
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('trace ids are unsampled X-Ray headers with the epoch seconds of their time', () => {
    const at = Date.UTC(2024, 4, 17, 12, 0, 0);
    const ids = Array.from({ length: 500 }, () => newTraceId(at));
    for (const id of ids)
      expect(id).toMatch(new RegExp(`^Root=1-${(at / 1000).toString(16)}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
