import type { SQSEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { until } from '../../../../test/helpers/wait.js';
import type { InvokeOutcome } from '../../../runtime/index.js';
import { StateStore } from '../../../state/index.js';
import { fromSqsResult, QueuePoller, type QueuePollerOptions } from './index.js';

const where = { region: 'eu-west-1', account: '000000000000' };
const Q = 'shop-orders-dev';
const DLQ = 'shop-orders-dlq-dev';

const ok = (payload = 'null'): InvokeOutcome => ({
  ok: true,
  payload,
  requestId: randomUUID(),
  durationMs: 1,
  billedMs: 1,
  maxMemoryMb: 64,
  logs: [],
});
const failed = (message = 'boom'): InvokeOutcome => ({
  ok: false,
  error: { errorType: 'Error', errorMessage: message },
  cause: 'handler',
  requestId: randomUUID(),
  durationMs: 1,
  billedMs: 1,
  maxMemoryMb: 64,
  logs: [],
});

describe('queue poller (SQS event source mapping)', () => {
  let dir: string;
  let store: StateStore;
  const pollers: QueuePoller[] = [];
  const poller = (options: Partial<QueuePollerOptions> & Pick<QueuePollerOptions, 'invoke'>) => {
    const created = new QueuePoller({
      ...where,
      queues: store.queues,
      queue: Q,
      visibilityTimeoutMs: 60_000,
      idleDelayMs: 5,
      ...options,
    });
    pollers.push(created);
    return created;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-poller-'));
    store = StateStore.open(join(dir, 'state.db'));
  });
  afterEach(async () => {
    await Promise.all(pollers.splice(0).map((entry) => entry.stop()));
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('invokes with the event exactly as SQS sends it to Lambda and deletes the batch on success', async () => {
    const id = store.queues.send(Q, 'Test message.', {
      attributes: { SellerName: { DataType: 'String', StringValue: 'Example Store' } },
    });
    const plain = store.queues.send(Q, '{"order":1}');
    const sent = store.queues.get(id)?.sentAt as number;
    let event: SQSEvent | undefined;
    const report = await poller({
      invoke: async (payload) => {
        event = JSON.parse(payload) as SQSEvent;
        return ok();
      },
    }).poll();
    expect(event?.Records).toHaveLength(2);
    const [first, second] = event?.Records ?? [];
    expect(first).toEqual({
      messageId: id,
      receiptHandle: expect.any(String),
      body: 'Test message.',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(sent),
        SenderId: '000000000000',
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
      },
      messageAttributes: {
        SellerName: { stringValue: 'Example Store', stringListValues: [], binaryListValues: [], dataType: 'String' },
      },
      // Both digests as SQS computes them (AWS's documented examples).
      md5OfBody: 'e4e68fb7bd0e697a0ae8f1bb342846b3',
      md5OfMessageAttributes: 'cd28f3b68aeee4b2eac9c66f2f694b58',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:eu-west-1:000000000000:${Q}`,
      awsRegion: 'eu-west-1',
    });
    expect(second).toMatchObject({ messageId: plain, body: '{"order":1}', messageAttributes: {} });
    expect(second).not.toHaveProperty('md5OfMessageAttributes');
    expect(report).toMatchObject({ deleted: [id, plain], failed: [], exhausted: [] });
    expect(store.queues.counts(Q)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('leaves a failed batch to come back after the visibility timeout, with its receive count raised', async () => {
    const id = store.queues.send(Q, 'retry me');
    const seen: string[] = [];
    let calls = 0;
    const consumer = poller({
      visibilityTimeoutMs: 150,
      invoke: async (payload) => {
        const record = (JSON.parse(payload) as SQSEvent).Records[0];
        seen.push(`${record?.messageId}:${record?.attributes.ApproximateReceiveCount}`);
        return ++calls === 1 ? failed('Task timed out after 3.00 seconds') : ok();
      },
    });
    const started = Date.now();
    consumer.start();
    await until(() => calls === 2);
    await until(() => store.queues.counts(Q).inFlight === 0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(seen).toEqual([`${id}:1`, `${id}:2`]);
    expect(store.queues.get(id)).toBeUndefined();
  });

  it('treats a throwing invoke like a failed invocation: nothing is deleted', async () => {
    store.queues.send(Q, 'x');
    const errors: unknown[] = [];
    const report = await poller({
      invoke: async () => {
        throw new Error('runtime gone');
      },
      onError: (error) => errors.push(error),
    }).poll();
    expect(report).toMatchObject({ deleted: [], error: 'the invocation did not complete: runtime gone' });
    expect(store.queues.counts(Q)).toEqual({ visible: 0, inFlight: 1, delayed: 0 });
  });

  it('honours a partial batch response, and fails the whole batch on an unknown item identifier', async () => {
    const ids = store.queues.sendMany(Q, [{ body: 'a' }, { body: 'b' }, { body: 'c' }]);
    const partial = await poller({
      invoke: async () => ok(JSON.stringify({ batchItemFailures: [{ itemIdentifier: ids[1] }] })),
    }).poll();
    expect(partial).toMatchObject({ deleted: [ids[0], ids[2]], failed: [ids[1]] });
    expect(store.queues.list(Q).map((message) => message.messageId)).toEqual([ids[1]]);

    const more = store.queues.sendMany(Q, [{ body: 'd' }, { body: 'e' }]);
    const invalid = await poller({
      invoke: async () => ok(JSON.stringify({ batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] })),
    }).poll();
    expect(invalid).toMatchObject({
      deleted: [],
      failed: more,
      error: 'invalid partial batch response: itemIdentifier not-in-batch is not a message of this batch',
    });
  });

  it('reads partial batch responses by Lambda rules', () => {
    const ids = ['m1', 'm2'];
    expect(fromSqsResult('null', ids)).toEqual({ kind: 'success' });
    expect(fromSqsResult('', ids)).toEqual({ kind: 'success' });
    expect(fromSqsResult('{}', ids)).toEqual({ kind: 'success' });
    expect(fromSqsResult('"done"', ids)).toEqual({ kind: 'success' });
    expect(fromSqsResult('{"batchItemFailures":null}', ids)).toEqual({ kind: 'success' });
    expect(fromSqsResult('{"batchItemFailures":[]}', ids)).toEqual({ kind: 'success' });
    expect(fromSqsResult('{"batchItemFailures":[{"itemIdentifier":"m2"},{"itemIdentifier":"m2"}]}', ids)).toEqual({
      kind: 'partial',
      failed: ['m2'],
    });
    for (const bad of [
      '{"batchItemFailures":[{"itemIdentifier":""}]}',
      '{"batchItemFailures":[{"itemIdentifier":null}]}',
      '{"batchItemFailures":[{"id":"m1"}]}',
      '{"batchItemFailures":[{"itemIdentifier":"m3"}]}',
      '{"batchItemFailures":"m1"}',
      '{not json',
    ]) {
      expect(fromSqsResult(bad, ids).kind, bad).toBe('failure');
    }
  });

  it('moves a message to the dead-letter queue after maxReceiveCount failed receives, as SQS redrive does', async () => {
    const id = store.queues.send(Q, 'poison');
    let calls = 0;
    const reports: { exhausted: string[] }[] = [];
    poller({
      visibilityTimeoutMs: 20,
      redrive: { maxReceiveCount: 3, deadLetterQueue: DLQ },
      invoke: async () => {
        calls++;
        return failed();
      },
      onBatch: (report) => reports.push(report),
    }).start();
    await until(() => store.queues.counts(DLQ).visible === 1);
    expect(calls).toBe(3);
    expect(reports.map((report) => report.exhausted)).toEqual([[], [], [id]]);
    expect(store.queues.counts(Q)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    // Consumed from the dead-letter queue, the record says where it came from.
    let record: SQSEvent['Records'][number] | undefined;
    await poller({
      queue: DLQ,
      invoke: async (payload) => {
        record = (JSON.parse(payload) as SQSEvent).Records[0];
        return ok();
      },
    }).poll();
    expect(record).toMatchObject({
      messageId: id,
      body: 'poison',
      eventSourceARN: `arn:aws:sqs:eu-west-1:000000000000:${DLQ}`,
      attributes: { DeadLetterQueueSourceArn: `arn:aws:sqs:eu-west-1:000000000000:${Q}` },
    });
  });

  it('never gives one visible message to two pollers on two connections to the same file', async () => {
    store.queues.sendMany(
      Q,
      Array.from({ length: 400 }, (_, index) => ({ body: String(index) })),
    );
    const other = StateStore.open(join(dir, 'state.db'));
    const seen: string[] = [];
    const invoke = async (payload: string) => {
      for (const record of (JSON.parse(payload) as SQSEvent).Records) seen.push(record.messageId);
      await new Promise((resolve) => setTimeout(resolve, 1));
      return ok();
    };
    const a = poller({ invoke, batchSize: 7, concurrency: 2 });
    const b = new QueuePoller({
      ...where,
      queues: other.queues,
      queue: Q,
      visibilityTimeoutMs: 60_000,
      idleDelayMs: 5,
      batchSize: 5,
      concurrency: 2,
      invoke,
    });
    a.start();
    b.start();
    try {
      await until(() => seen.length >= 400 && store.queues.counts(Q).inFlight === 0);
    } finally {
      await b.stop();
      other.close();
    }
    expect(seen).toHaveLength(400);
    expect(new Set(seen).size).toBe(400);
  });

  it('stop() waits for the batch in flight and polls no more', async () => {
    store.queues.sendMany(Q, [{ body: 'a' }, { body: 'b' }]);
    let finished = false;
    const consumer = poller({
      batchSize: 1,
      invoke: async () => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        finished = true;
        return ok();
      },
    });
    consumer.start();
    await until(() => store.queues.counts(Q).inFlight === 1);
    await consumer.stop();
    expect(finished).toBe(true);
    expect(store.queues.counts(Q)).toEqual({ visible: 1, inFlight: 0, delayed: 0 });
  });

  it('fills a batch during the batching window', async () => {
    store.queues.send(Q, 'first');
    let sizes: number[] = [];
    // A window far longer than the test: the batch goes as soon as it is full, not when the window ends.
    const consumer = poller({
      batchSize: 3,
      maximumBatchingWindowMs: 30_000,
      invoke: async (payload) => {
        sizes = [...sizes, (JSON.parse(payload) as SQSEvent).Records.length];
        return ok();
      },
    });
    consumer.start();
    await until(() => store.queues.counts(Q).inFlight === 1);
    store.queues.sendMany(Q, [{ body: 'second' }, { body: 'third' }]);
    await until(() => sizes.length > 0);
    expect(sizes).toEqual([3]);
  });

  it('moves thousands of messages per second with a trivial function', async () => {
    const total = 5_000;
    store.queues.sendMany(
      Q,
      Array.from({ length: total }, (_, index) => ({ body: `{"n":${index}}` })),
    );
    let processed = 0;
    const started = performance.now();
    poller({
      batchSize: 10,
      invoke: async (payload) => {
        processed += (JSON.parse(payload) as SQSEvent).Records.length;
        return ok();
      },
    }).start();
    await until(() => processed === total, 30_000);
    const perSecond = Math.round(total / ((performance.now() - started) / 1_000));
    console.log(`queue poller: ${total} messages, batch 10, one lane: ${perSecond} messages/s`);
    expect(perSecond).toBeGreaterThan(1_000);
    expect(store.queues.counts(Q)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });
});
