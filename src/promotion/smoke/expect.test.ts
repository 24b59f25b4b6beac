import { describe, expect, it } from 'vitest';
import { subsetMismatch, unmetExpectations } from './expect.js';

describe('smoke expectations', () => {
  it('meets status, body text, JSON subset and headers (names case-insensitive)', () => {
    const observed = {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"ok":true,"items":[{"id":1,"x":2}],"extra":"y"}',
    };
    expect(
      unmetExpectations(
        {
          status: 200,
          bodyContains: '"ok":true',
          json: { ok: true, items: [{ id: 1 }] },
          headers: { 'Content-Type': 'application/json' },
        },
        observed,
      ),
    ).toEqual([]);
  });

  it('names every unmet expectation, then the body', () => {
    const problems = unmetExpectations(
      { status: 201, bodyContains: 'created', json: { ok: false }, headers: { 'x-id': '7' } },
      { status: 500, headers: {}, body: '{"ok":true}' },
    );
    expect(problems).toEqual([
      'expected status 201, got 500',
      'expected the body to contain "created"',
      'expected the JSON body to contain {"ok":false}: $.ok is true',
      'expected header x-id: 7, got none',
      'body: {"ok":true}',
    ]);
    expect(unmetExpectations({ status: 200 }, { headers: {}, body: 'plain' })[0]).toBe(
      'expected status 200, but the result has no statusCode',
    );
    expect(unmetExpectations({ json: {} }, { status: 200, headers: {}, body: 'not json' })[0]).toBe(
      'expected a JSON body, got text that is not JSON',
    );
  });

  it('compares JSON as a subset: objects by named keys, arrays item by item', () => {
    expect(subsetMismatch({ a: { b: 1 } }, { a: { b: 1, c: 2 }, d: 3 }, '$')).toBeUndefined();
    expect(subsetMismatch({ a: { b: 1 } }, { a: {} }, '$')).toBe('$.a.b is missing');
    expect(subsetMismatch([1, 2], [1, 2, 3], '$')).toBe('$ has 3 items, expected 2');
    expect(subsetMismatch([{ id: 1 }], [{ id: 2 }], '$')).toBe('$[0].id is 2');
    expect(subsetMismatch({ a: 1 }, [1], '$')).toBe('$ is not an object');
    expect(subsetMismatch(null, null, '$')).toBeUndefined();
  });
});
