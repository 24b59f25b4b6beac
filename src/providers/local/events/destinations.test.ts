import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { until } from '../../../../test/helpers/wait.js';
import type { InvokeOutcome } from '../../../runtime/index.js';
import { StateStore } from '../../../state/index.js';
import {
  AsyncInvoker,
  asyncQueueName,
  invocationRecord,
  sendToDestination,
  type AsyncInvokerOptions,
  type InvocationRecord,
} from './index.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:shop-worker-dev:live';
const ok = (payload: string): InvokeOutcome => ({
  ok: true,
  payload,
  requestId: randomUUID(),
  durationMs: 1,
  billedMs: 1,
  maxMemoryMb: 64,
  logs: [],
});
const failed = (): InvokeOutcome => ({
  ok: false,
  error: { errorType: 'Error', errorMessage: 'card declined', trace: ['Error: card declined'] },
  cause: 'handler',
  requestId: randomUUID(),
  durationMs: 1,
  billedMs: 1,
  maxMemoryMb: 64,
  logs: [],
});

describe('invocation records and destinations', () => {
  it('builds the record Lambda sends for a success and for a failure', () => {
    const now = Date.UTC(2025, 0, 1);
    expect(
      invocationRecord({
        now,
        requestId: 'r1',
        functionArn: ARN,
        condition: 'Success',
        approximateInvokeCount: 1,
        requestPayload: '{"a":1}',
        outcome: { ...ok('{"done":true}'), executedVersion: '7' },
      }),
    ).toEqual({
      version: '1.0',
      timestamp: '2025-01-01T00:00:00.000Z',
      requestContext: { requestId: 'r1', functionArn: ARN, condition: 'Success', approximateInvokeCount: 1 },
      requestPayload: { a: 1 },
      responseContext: { statusCode: 200, executedVersion: '7' },
      responsePayload: { done: true },
    });
    expect(
      invocationRecord({
        now,
        requestId: 'r2',
        functionArn: ARN,
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
        requestPayload: '{}',
        outcome: failed(),
      }),
    ).toMatchObject({
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType: 'Error', errorMessage: 'card declined' },
    });
    expect(
      invocationRecord({
        now,
        requestId: 'r3',
        functionArn: ARN,
        condition: 'EventAgeExceeded',
        approximateInvokeCount: 0,
        requestPayload: '{}',
      }),
    ).not.toHaveProperty('responseContext');
  });

  it('sends a record to the target its condition selects', () => {
    const sent: string[] = [];
    const sinks = {
      sendToQueue: (name: string) => sent.push(`queue:${name}`),
      publish: (name: string) => sent.push(`topic:${name}`),
      invokeAsync: (name: string) => sent.push(`function:${name}`),
    };
    const record = (condition: InvocationRecord['requestContext']['condition']) =>
      invocationRecord({
        now: 0,
        requestId: 'r',
        functionArn: ARN,
        condition,
        approximateInvokeCount: 1,
        requestPayload: '{}',
      });
    const config = {
      onSuccess: { type: 'topic' as const, name: 'events' },
      onFailure: { type: 'queue' as const, name: 'failures' },
    };
    expect(sendToDestination(config, record('Success'), sinks)).toEqual(config.onSuccess);
    expect(sendToDestination(config, record('RetriesExhausted'), sinks)).toEqual(config.onFailure);
    expect(sendToDestination(config, record('EventAgeExceeded'), sinks)).toEqual(config.onFailure);
    expect(
      sendToDestination({ onFailure: { type: 'function', name: 'alert' } }, record('EventAgeExceeded'), sinks),
    ).toEqual({ type: 'function', name: 'alert' });
    expect(sendToDestination({}, record('Success'), sinks)).toBeUndefined();
    expect(sent).toEqual(['topic:events', 'queue:failures', 'queue:failures', 'function:alert']);
  });
});

describe('asynchronous invocation', () => {
  let dir: string;
  let store: StateStore;
  const queue = asyncQueueName('shop-worker-dev', 'live');
  const invokers: AsyncInvoker[] = [];
  const invoker = (options: Partial<AsyncInvokerOptions> & Pick<AsyncInvokerOptions, 'invoke'>) => {
    const created = new AsyncInvoker({
      queues: store.queues,
      queue,
      functionArn: ARN,
      retryDelaysMs: [20, 40],
      idleDelayMs: 5,
      transaction: (work) => store.transaction(work),
      ...options,
    });
    invokers.push(created);
    return created;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-async-'));
    store = StateStore.open(join(dir, 'state.db'));
  });
  afterEach(async () => {
    await Promise.all(invokers.splice(0).map((entry) => entry.stop()));
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a queued event and sends a Success record to onSuccess', async () => {
    const records: InvocationRecord[] = [];
    const seen: { payload: string; requestId: string }[] = [];
    const async = invoker({
      invoke: async (payload, { requestId }) => {
        seen.push({ payload, requestId });
        return ok('"fine"');
      },
      onDone: (record) => records.push(record),
    });
    const requestId = async.invoke('{"order":1}');
    async.start();
    await until(() => records.length === 1);
    expect(seen).toEqual([{ payload: '{"order":1}', requestId }]);
    expect(records[0]).toMatchObject({
      requestContext: { requestId, functionArn: ARN, condition: 'Success', approximateInvokeCount: 1 },
      requestPayload: { order: 1 },
      responsePayload: 'fine',
    });
    expect(store.queues.counts(queue)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('retries a failing event twice after the retry delays, then sends RetriesExhausted to onFailure', async () => {
    const records: InvocationRecord[] = [];
    const attempts: { at: number; requestId: string }[] = [];
    const async = invoker({
      invoke: async (_payload, { requestId }) => {
        attempts.push({ at: Date.now(), requestId });
        return failed();
      },
      onDone: (record) => records.push(record),
    });
    const requestId = async.invoke('{"order":2}');
    async.start();
    await until(() => records.length === 1);
    expect(attempts.map((attempt) => attempt.requestId)).toEqual([requestId, requestId, requestId]);
    expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(18);
    expect((attempts[2]?.at ?? 0) - (attempts[1]?.at ?? 0)).toBeGreaterThanOrEqual(38);
    expect(records[0]).toMatchObject({
      requestContext: { requestId, condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: { order: 2 },
      responseContext: { functionError: 'Unhandled' },
      responsePayload: { errorMessage: 'card declined' },
    });
    expect(store.queues.counts(queue)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('honours maximumRetryAttempts and the maximum event age', async () => {
    const records: InvocationRecord[] = [];
    let calls = 0;
    const once = invoker({
      maximumRetryAttempts: 0,
      invoke: async () => {
        calls++;
        return failed();
      },
      onDone: (record) => records.push(record),
    });
    once.invoke('{}');
    await once.poll();
    expect([calls, records[0]?.requestContext.condition]).toEqual([1, 'RetriesExhausted']);

    const old = invoker({
      maximumEventAgeMs: 30,
      invoke: async () => {
        calls++;
        return failed();
      },
      onDone: (record) => records.push(record),
    });
    old.invoke('{}');
    await old.poll();
    await new Promise((resolve) => setTimeout(resolve, 60));
    await old.poll();
    expect(calls).toBe(2);
    expect(records[1]).toMatchObject({ requestContext: { condition: 'EventAgeExceeded', approximateInvokeCount: 1 } });
    expect(() => invoker({ maximumRetryAttempts: 3, invoke: async () => failed() })).toThrow(/0, 1 or 2/);
    expect(() => once.invoke('not json')).toThrow(expect.objectContaining({ code: 'ARGUMENT_INVALID' }));
  });

  it('keeps queued events across a restart: they live in the state database', async () => {
    invoker({ invoke: async () => ok('null') }).invoke('{"survives":true}');
    store.close();
    store = StateStore.open(join(dir, 'state.db'));
    const seen: string[] = [];
    const restarted = invoker({
      invoke: async (payload) => {
        seen.push(payload);
        return ok('null');
      },
    });
    restarted.start();
    await until(() => seen.length === 1);
    expect(seen).toEqual(['{"survives":true}']);
  });

  it('writes the destination and removes the event in one transaction', async () => {
    const async = invoker({
      invoke: async () => ok('null'),
      onDone: () => {
        throw new Error('destination unavailable');
      },
    });
    async.invoke('{}');
    await expect(async.poll()).rejects.toThrow('destination unavailable');
    // The event is still there, to be tried again.
    expect(store.queues.counts(queue).inFlight).toBe(1);
  });
});
