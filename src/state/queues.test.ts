import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from './migrations.js';
import { StateStore } from './index.js';

describe('queue store', () => {
  let dir: string;
  let path: string;
  let now: number;
  let store: StateStore;
  const Q = 'shop-orders-dev';
  const DLQ = 'shop-orders-dlq-dev';

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-queues-'));
    path = join(dir, 'state.db');
    now = Date.UTC(2025, 0, 1);
    store = StateStore.open(path, { now: () => new Date(now) });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives handles that begin as SQS’s do, never with a dash a command line would take for an option', () => {
    for (let i = 0; i < 2_000; i++) store.queues.send(Q, `m${i}`);
    const handles = [];
    for (let batch = store.queues.receive(Q, 10, 60_000); batch.length > 0; batch = store.queues.receive(Q, 10, 60_000))
      handles.push(...batch.map((message) => message.receiptHandle));
    expect(handles).toHaveLength(2_000);
    expect(handles.filter((handle) => !/^AQEB[A-Za-z0-9_-]{32}$/.test(handle))).toEqual([]);
  });

  it('sends durably and receives with SQS metadata: receive count, first receive, a fresh handle per receive', () => {
    const id = store.queues.send(Q, 'hello', { attributes: { kind: { DataType: 'String', StringValue: 'greeting' } } });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    now += 5;
    const [first] = store.queues.receive(Q, 10, 1_000);
    expect(first).toMatchObject({
      messageId: id,
      queue: Q,
      body: 'hello',
      receiveCount: 1,
      sentAt: Date.UTC(2025, 0, 1),
      firstReceivedAt: now,
      visibleAt: now + 1_000,
      attributes: { kind: { DataType: 'String', StringValue: 'greeting' } },
    });
    expect(store.queues.receive(Q, 10, 1_000)).toEqual([]);
    expect(store.queues.counts(Q)).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
    now += 1_000;
    const [second] = store.queues.receive(Q, 10, 1_000);
    expect(second).toMatchObject({ messageId: id, receiveCount: 2, firstReceivedAt: Date.UTC(2025, 0, 1) + 5 });
    expect(second?.receiptHandle).not.toBe(first?.receiptHandle);
    // The first handle is stale: deleting with it does nothing, as in SQS.
    expect(store.queues.delete(Q, first?.receiptHandle as string)).toBe(false);
    expect(store.queues.delete(Q, second?.receiptHandle as string)).toBe(true);
    expect(store.queues.counts(Q)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('keeps sent order, honours delays and batch limits, and changes visibility only while in flight', () => {
    const ids = store.queues.sendMany(Q, [{ body: 'a' }, { body: 'b' }, { body: 'c', delayMs: 500 }]);
    expect(store.queues.counts(Q)).toEqual({ visible: 2, inFlight: 0, delayed: 1 });
    const batch = store.queues.receive(Q, 10, 100);
    expect(batch.map((message) => message.messageId)).toEqual(ids.slice(0, 2));
    expect(store.queues.changeVisibility(Q, batch[0]?.receiptHandle as string, 0)).toBe(true);
    expect(store.queues.receive(Q, 10, 100).map((message) => message.body)).toEqual(['a']);
    now += 100;
    expect(store.queues.changeVisibility(Q, batch[1]?.receiptHandle as string, 1_000)).toBe(false);
    now += 400;
    expect(
      store.queues
        .receive(Q, 2, 100)
        .map((message) => message.body)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(store.queues.receive(Q, 2, 100).map((message) => message.body)).toEqual(['c']);
  });

  it('moves a message received maxReceiveCount times to the dead-letter queue on the next receive', () => {
    const id = store.queues.send(Q, 'poison');
    const redrive = { maxReceiveCount: 2, deadLetterQueue: DLQ };
    for (let attempt = 1; attempt <= 2; attempt++) {
      expect(store.queues.receive(Q, 10, 10, { redrive }).map((message) => message.receiveCount)).toEqual([attempt]);
      now += 10;
    }
    const healthy = store.queues.send(Q, 'fine');
    expect(store.queues.receive(Q, 10, 10, { redrive }).map((message) => message.messageId)).toEqual([healthy]);
    expect(store.queues.list(DLQ)).toEqual([
      expect.objectContaining({
        messageId: id,
        body: 'poison',
        receiveCount: 2,
        deadLetterSource: Q,
        receiptHandle: undefined,
      }),
    ]);
    expect(store.queues.counts(DLQ)).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
    const other = store.queues.send(Q, 'manual');
    expect(store.queues.moveToDeadLetter(Q, other, DLQ)).toBe(true);
    expect(store.queues.moveToDeadLetter(Q, other, DLQ)).toBe(false);
    expect(store.queues.summary()).toEqual([
      { queue: Q, visible: 0, inFlight: 1, delayed: 0 },
      { queue: DLQ, visible: 2, inFlight: 0, delayed: 0 },
    ]);
  });

  it('refuses what SQS refuses, before writing anything', () => {
    const bad: [string, () => unknown][] = [
      ['empty body', () => store.queues.send(Q, '')],
      ['control character', () => store.queues.send(Q, 'a\u0001b')],
      ['too big', () => store.queues.send(Q, 'x'.repeat(1_048_577))],
      ['delay', () => store.queues.send(Q, 'x', { delayMs: 900_001 })],
      [
        'attribute name',
        () => store.queues.send(Q, 'x', { attributes: { 'AWS.x': { DataType: 'String', StringValue: 'v' } } }),
      ],
      [
        'attribute type',
        () => store.queues.send(Q, 'x', { attributes: { a: { DataType: 'Text', StringValue: 'v' } } }),
      ],
      ['number', () => store.queues.send(Q, 'x', { attributes: { a: { DataType: 'Number', StringValue: 'one' } } })],
      ['empty value', () => store.queues.send(Q, 'x', { attributes: { a: { DataType: 'String', StringValue: '' } } })],
      ['batch of many, one bad', () => store.queues.sendMany(Q, [{ body: 'ok' }, { body: '' }])],
      ['receive 0', () => store.queues.receive(Q, 0, 10)],
      ['visibility', () => store.queues.receive(Q, 1, 43_200_001)],
    ];
    for (const [what, attempt] of bad)
      expect(attempt, what).toThrow(expect.objectContaining({ code: 'ARGUMENT_INVALID' }));
    expect(store.queues.counts(Q)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(
      store.queues.send(Q, 'x', {
        attributes: {
          n: { DataType: 'Number.int', StringValue: '-1.5e3' },
          b: { DataType: 'Binary', BinaryValue: 'aGk=' },
        },
      }),
    ).toBeTruthy();
  });

  it('never hands the same visible message to two connections on the same file', () => {
    store.queues.sendMany(
      Q,
      Array.from({ length: 500 }, (_, index) => ({ body: String(index) })),
    );
    const other = StateStore.open(path, { now: () => new Date(now) });
    try {
      const seen: string[] = [];
      for (let round = 0; round < 100; round++) {
        for (const consumer of [store, other])
          seen.push(...consumer.queues.receive(Q, 3, 60_000).map((message) => message.messageId));
      }
      expect(seen).toHaveLength(500);
      expect(new Set(seen).size).toBe(500);
    } finally {
      other.close();
    }
  });

  it('purges a queue and keeps queue traffic out of the ledger', () => {
    const before = store.ledger.list().length;
    store.queues.sendMany(Q, [{ body: 'a' }, { body: 'b' }]);
    store.queues.receive(Q, 1, 1_000);
    expect(store.queues.purge(Q)).toBe(2);
    expect(store.ledger.list()).toHaveLength(before);
  });

  it('migrates an empty database through every migration, the queue table included', () => {
    store.close();
    const fresh = join(dir, 'old.db');
    const db = new Database(fresh);
    db.pragma('user_version = 0');
    db.close();
    store = StateStore.open(fresh);
    const row = new Database(fresh, { readonly: true });
    expect(row.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length); // every migration since, in order
    expect(row.prepare("SELECT name FROM sqlite_master WHERE name = 'queue_messages'").get()).toEqual({
      name: 'queue_messages',
    });
    row.close();
  });
});
