/** The dashboard's pure parts: invocations read from log lines, the timeline's grouping, the Host and Origin rules. */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../state/index.js';
import { html } from './html.js';
import { invocationsOf, metricsOf } from './invocations.js';
import { allowedHosts, refuseMutation } from './security.js';
import { timelineGroups } from './views/timeline.js';

const line = (time: string, version: string, requestId: string, text: string) => ({
  time,
  version,
  requestId,
  line: text,
});

describe('invocations', () => {
  const entries = [
    line('2026-01-01T00:00:10.000Z', '1', 'a', 'START RequestId: a Version: 1'),
    line('2026-01-01T00:00:10.000Z', '1', 'a', 'hello'),
    line(
      '2026-01-01T00:00:10.100Z',
      '1',
      'a',
      'REPORT RequestId: a\tDuration: 12.50 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 90.00 ms',
    ),
    line(
      '2026-01-01T00:00:20.000Z',
      '2',
      'b',
      'REPORT RequestId: b\tDuration: 3.00 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tStatus: error\tError Type: Runtime.X',
    ),
    line('2026-01-01T00:00:30.000Z', '2', 'c', 'START RequestId: c Version: 2'),
  ];
  it('reads duration, cold start, status and the function lines from REPORT; unfinished ones are left out', () => {
    expect(invocationsOf(entries).map((i) => [i.requestId, i.durationMs, i.coldStart, i.status, i.lines])).toEqual([
      ['a', 12.5, true, 'ok', ['hello']],
      ['b', 3, false, 'error', []],
    ]);
  });
  it('counts requests and errors and takes p50 / p99 per version and minute', () => {
    const metrics = metricsOf(invocationsOf(entries), new Date('2026-01-01T00:00:59Z'), 2);
    expect(metrics.minutes).toEqual([
      Date.parse('2025-12-31T23:59:00Z') / 1000,
      Date.parse('2026-01-01T00:00:00Z') / 1000,
    ]);
    expect(metrics.versions).toEqual([
      { version: '1', requests: [0, 1], errors: [0, 0], p50: [null, 12.5], p99: [null, 12.5] },
      { version: '2', requests: [0, 1], errors: [0, 1], p50: [null, 3], p99: [null, 3] },
    ]);
  });
});

describe('timeline', () => {
  let seq = 0;
  const entry = (fields: Partial<LedgerEntry>): LedgerEntry => ({
    seq: ++seq,
    at: '2026-01-01T00:00:00.000Z',
    kind: 'alias.moved',
    operation: 'promote',
    actor: 'ada',
    environment: null,
    function: null,
    instance: null,
    alias: null,
    releaseId: null,
    version: null,
    previousVersion: null,
    commit: null,
    detail: {},
    ...fields,
  });
  it('groups by promotion, joins one rollback of several functions, and puts the newest first', () => {
    const groups = timelineGroups([
      entry({ kind: 'promotion.started', detail: { promotion: 'p1' } }),
      entry({ environment: 'dev', detail: { promotion: 'p1' } }),
      entry({ operation: 'rollback', environment: 'dev', function: 'api', detail: { reason: 'bad' } }),
      entry({ operation: 'rollback', environment: 'dev', function: 'worker', detail: { reason: 'bad' } }),
      entry({ kind: 'release.built', operation: 'build' }),
    ]);
    expect(groups.map((group) => [group.id, group.kind, group.entries.length])).toEqual([
      ['e5', 'change', 1],
      ['rollback-3', 'rollback', 2],
      ['p1', 'promotion', 2],
    ]);
  });
});

describe('security', () => {
  const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
  const token = 'x'.repeat(64);
  it('knows the loopback names and the bound host, with the port', () => {
    expect([...allowedHosts('127.0.0.1', 4600)]).toEqual(['127.0.0.1:4600', 'localhost:4600', '[::1]:4600']);
    expect(allowedHosts('10.0.0.5', 80).has('10.0.0.5:80')).toBe(true);
  });
  it('refuses a foreign origin before the token, a missing token, and accepts its own origin with the token', () => {
    const own = { host: '127.0.0.1:4600', origin: 'http://127.0.0.1:4600' };
    expect(
      refuseMutation(request({ ...own, origin: 'http://evil.example', cookie: `stagecraft_dashboard=${token}` }), token)
        ?.status,
    ).toBe(403);
    expect(refuseMutation(request({ host: own.host, cookie: `stagecraft_dashboard=${token}` }), token)?.status).toBe(
      403,
    );
    expect(refuseMutation(request(own), token)?.status).toBe(401);
    expect(refuseMutation(request({ ...own, cookie: `stagecraft_dashboard=${token}` }), token)).toBeUndefined();
    expect(refuseMutation(request({ host: own.host, authorization: `Bearer ${token}` }), token)).toBeUndefined();
  });
  it('escapes what it interpolates', () => {
    expect(html`<p title="${'"><script>'}">${'<b>'}</p>`.text).toBe(
      '<p title="&quot;&gt;&lt;script&gt;">&lt;b&gt;</p>',
    );
  });
});
