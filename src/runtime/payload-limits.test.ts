import { describe, expect, it } from 'vitest';
import { ASYNC_PAYLOAD_LIMIT, assertPayloadSize, oversize, SYNC_PAYLOAD_LIMIT } from './payload-limits.js';

describe('payload limits', () => {
  it('lets a payload of exactly the limit through and refuses one byte more', () => {
    const at = `"${'a'.repeat(SYNC_PAYLOAD_LIMIT - 2)}"`;
    expect(oversize(at, 'sync')).toBeUndefined();
    expect(oversize(`"${'a'.repeat(SYNC_PAYLOAD_LIMIT - 1)}"`, 'sync')).toBe(SYNC_PAYLOAD_LIMIT + 1);
    expect(oversize(`"${'a'.repeat(ASYNC_PAYLOAD_LIMIT)}"`, 'async')).toBe(ASYNC_PAYLOAD_LIMIT + 2);
  });

  it('counts bytes, not characters', () => {
    expect(oversize('é'.repeat(ASYNC_PAYLOAD_LIMIT / 2 + 1), 'async')).toBe(ASYNC_PAYLOAD_LIMIT + 2);
  });

  it('answers as Lambda does', () => {
    expect(() => assertPayloadSize('x'.repeat(ASYNC_PAYLOAD_LIMIT + 1), 'async')).toThrow(
      /RequestEntityTooLargeException: Request must be smaller than 262144 bytes/,
    );
  });
});
