import type { SNSEvent, SQSEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { until } from '../../../../test/helpers/wait.js';
import { parseManifest } from '../../../manifest/index.js';
import type { InvokeOutcome } from '../../../runtime/index.js';
import { StateStore } from '../../../state/index.js';
import { EnvironmentEvents, type EventActivity, type InvocationRecord } from './index.js';

const MANIFEST = `
app: shop
environments: [{ name: dev }, { name: prod }]
functions:
  worker:
    handler: src/worker.handler
    events: [{ queue: { name: orders, batchSize: 5 } }]
    destinations: { onSuccess: 'topic:order-events', onFailure: 'queue:failures' }
  audit:
    handler: src/audit.handler
    events: [{ topic: order-events }]
  tick:
    handler: src/tick.handler
    events: [{ schedule: 'rate(1 minute)' }]
resources:
  queues:
    orders: { visibilityTimeout: 1, maxReceiveCount: 2, deadLetter: orders-dlq }
    orders-dlq: {}
    failures: {}
    audit-log: {}
  topics:
    order-events: { subscribers: ['queue:audit-log'] }
`;

const ok = (payload = 'null'): InvokeOutcome => ({
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
  error: { errorType: 'Error', errorMessage: 'bad order' },
  cause: 'handler',
  requestId: randomUUID(),
  durationMs: 1,
  billedMs: 1,
  maxMemoryMb: 64,
  logs: [],
});

const { manifest } = await parseManifest(MANIFEST, { file: 'stagecraft.yml' });

describe('event sources of one environment', () => {
  let dir: string;
  let store: StateStore;
  let calls: { fn: string; payload: string }[];
  let activity: EventActivity[];
  let events: EnvironmentEvents;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-env-events-'));
    store = StateStore.open(join(dir, 'state.db'));
    calls = [];
    activity = [];
    events = new EnvironmentEvents({
      manifest,
      env: 'dev',
      store,
      account: '000000000000',
      idleDelayMs: 10,
      asyncRetryDelaysMs: [10, 10],
      isLive: (fn) => fn !== 'tick',
      invoke: async (fn, payload) => {
        calls.push({ fn, payload });
        if (fn !== 'worker') return ok();
        const bad = (JSON.parse(payload) as SQSEvent).Records.some((record) => record.body === 'bad');
        return bad ? failed() : ok('{"handled":true}');
      },
      onActivity: (entry) => activity.push(entry),
    });
    events.start();
  });
  afterEach(async () => {
    await events.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a queue message through the function, its onSuccess topic, and the topic subscribers', async () => {
    const id = events.send('orders', 'good');
    await until(
      () => calls.some((call) => call.fn === 'audit') && store.queues.counts('shop-audit-log-dev').visible === 1,
    );
    const worker = JSON.parse(calls.find((call) => call.fn === 'worker')?.payload ?? '{}') as SQSEvent;
    expect(worker.Records[0]).toMatchObject({
      messageId: id,
      body: 'good',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:shop-orders-dev',
    });

    // The record reached the topic, which fanned out to the audit-log queue (SNS envelope) and the audit function (SNS event).
    const envelope = JSON.parse(store.queues.list('shop-audit-log-dev')[0]?.body ?? '{}') as {
      Message: string;
      TopicArn: string;
    };
    expect(envelope.TopicArn).toBe('arn:aws:sns:us-east-1:000000000000:shop-order-events-dev');
    const record = JSON.parse(envelope.Message) as InvocationRecord;
    expect(record).toMatchObject({
      version: '1.0',
      requestContext: {
        condition: 'Success',
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shop-worker-dev:live',
        approximateInvokeCount: 1,
      },
      requestPayload: { Records: [{ messageId: id }] },
      responsePayload: { handled: true },
    });
    const sns = JSON.parse(calls.find((call) => call.fn === 'audit')?.payload ?? '{}') as SNSEvent;
    expect(JSON.parse(sns.Records[0]?.Sns.Message ?? '{}')).toEqual(record);
    expect(activity.some((entry) => entry.kind === 'destination' && entry.target === 'topic:order-events')).toBe(true);
  });

  it('sends RetriesExhausted to onFailure on the last receive, then dead-letters the message', async () => {
    const id = events.send('orders', 'bad');
    await until(() => store.queues.counts('shop-orders-dlq-dev').visible === 1);
    expect(calls.filter((call) => call.fn === 'worker')).toHaveLength(2);
    const failures = store.queues.list('shop-failures-dev');
    expect(failures).toHaveLength(1);
    expect(JSON.parse(failures[0]?.body ?? '{}')).toMatchObject({
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 2 },
      requestPayload: { Records: [{ messageId: id, attributes: { ApproximateReceiveCount: '2' } }] },
      responseContext: { functionError: 'Unhandled' },
      responsePayload: { errorMessage: 'bad order' },
    });
    expect(store.queues.list('shop-orders-dlq-dev')[0]).toMatchObject({
      messageId: id,
      deadLetterSource: 'shop-orders-dev',
    });
  });

  it('keeps environments apart and refuses unknown queues, topics and functions', async () => {
    const prod = new EnvironmentEvents({
      manifest,
      env: 'prod',
      store,
      account: '000000000000',
      invoke: async () => ok(),
    });
    prod.send('orders', 'for prod');
    expect(store.queues.counts('shop-orders-prod').visible).toBe(1);
    expect(store.queues.counts('shop-orders-dev').visible).toBe(0);
    expect(() => events.send('nope', 'x')).toThrow(
      expect.objectContaining({ code: 'ARGUMENT_INVALID', hint: expect.stringContaining('orders, orders-dlq') }),
    );
    expect(() => events.publish('nope', 'x')).toThrow(expect.objectContaining({ code: 'ARGUMENT_INVALID' }));
    expect(() => events.invokeAsync('nope', '{}')).toThrow(expect.objectContaining({ code: 'FUNCTION_UNKNOWN' }));
  });

  it('refuses an asynchronous event over Lambda’s 256 KB and queues one at the limit', () => {
    const over = JSON.stringify({ blob: 'x'.repeat(256 * 1024) });
    expect(() => events.invokeAsync('tick', over)).toThrow(
      expect.objectContaining({
        code: 'ARGUMENT_INVALID',
        message: expect.stringContaining('RequestEntityTooLargeException: Request must be smaller than 262144 bytes'),
      }),
    );
    const at = JSON.stringify({ blob: 'x'.repeat(256 * 1024 - 11) });
    expect(Buffer.byteLength(at)).toBe(256 * 1024);
    expect(events.invokeAsync('tick', at)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('does not run sources of a function without a live version; its events wait', async () => {
    events.invokeAsync('tick', '{"waiting":true}');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(calls.filter((call) => call.fn === 'tick')).toEqual([]);
    expect(store.queues.counts('lambda-async:shop-tick-dev:live').visible).toBe(1);
  });
});
