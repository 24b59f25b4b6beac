import type { SNSEvent } from 'aws-lambda';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseManifest } from '../../../manifest/index.js';
import { StateStore } from '../../../state/index.js';
import { ManualClock, topicSubscribers, Topics } from './index.js';

const MANIFEST = `
app: shop
environments: [{ name: dev }]
functions:
  notify:
    handler: src/notify.handler
    events: [{ topic: order-events }]
  mailer:
    handler: src/mailer.handler
resources:
  queues: { audit: {} }
  topics:
    order-events: { subscribers: ['queue:audit', 'function:mailer'] }
    quiet: {}
`;

const { manifest } = await parseManifest(MANIFEST, { file: 'stagecraft.yml' });

describe('topics (SNS fan-out)', () => {
  const where = { region: 'us-east-1', account: '000000000000' };
  let dir: string;
  let store: StateStore;
  let invoked: { fn: string; payload: string }[];
  let topics: Topics;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-topics-'));
    store = StateStore.open(join(dir, 'state.db'));
    invoked = [];
    topics = new Topics({
      ...where,
      subscribers: topicSubscribers(manifest),
      physicalName: (name) => `shop-${name}-dev`,
      queues: store.queues,
      invokeAsync: (fn, payload) => {
        invoked.push({ fn, payload });
        return `req-${invoked.length}`;
      },
      transaction: (work) => store.transaction(work),
      clock: new ManualClock(Date.UTC(2025, 0, 2, 3, 4, 5, 678)),
    });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('collects subscribers from resources.topics and from functions with a topic event', () => {
    expect(Object.fromEntries(topicSubscribers(manifest))).toEqual({
      'order-events': [
        { type: 'queue', name: 'audit' },
        { type: 'function', name: 'mailer' },
        { type: 'function', name: 'notify' },
      ],
      quiet: [],
    });
  });

  it('writes the SNS envelope to a subscribed queue, as SNS → SQS does without raw delivery', () => {
    const result = topics.publish('order-events', '{"id":"o-1"}', {
      subject: 'Order placed',
      attributes: { kind: { Type: 'String', Value: 'created' } },
    });
    const [message] = store.queues.list('shop-audit-dev');
    expect(result.deliveries.map((delivery) => delivery.subscriber)).toEqual([
      'queue:audit',
      'function:mailer',
      'function:notify',
    ]);
    expect(result.deliveries[0]?.queueMessageId).toBe(message?.messageId);
    const topicArn = 'arn:aws:sns:us-east-1:000000000000:shop-order-events-dev';
    const envelope = JSON.parse(message?.body ?? '{}') as Record<string, unknown>;
    expect(Object.keys(envelope)).toEqual([
      'Type',
      'MessageId',
      'TopicArn',
      'Subject',
      'Message',
      'Timestamp',
      'SignatureVersion',
      'Signature',
      'SigningCertURL',
      'UnsubscribeURL',
      'MessageAttributes',
    ]);
    expect(envelope).toMatchObject({
      Type: 'Notification',
      MessageId: result.messageId,
      TopicArn: topicArn,
      Subject: 'Order placed',
      Message: '{"id":"o-1"}',
      Timestamp: '2025-01-02T03:04:05.678Z',
      SignatureVersion: '1',
      MessageAttributes: { kind: { Type: 'String', Value: 'created' } },
      UnsubscribeURL: expect.stringContaining(`SubscriptionArn=${topicArn}:`),
    });
    // Message attributes travel inside the envelope, not as SQS attributes.
    expect(message?.attributes).toEqual({});
  });

  it('invokes a subscribed function asynchronously with the SNS event', () => {
    const result = topics.publish('order-events', 'hello');
    expect(invoked.map((call) => call.fn)).toEqual(['mailer', 'notify']);
    const event = JSON.parse(invoked[0]?.payload ?? '{}') as SNSEvent;
    const subscription = result.deliveries[1]?.subscriptionArn;
    expect(subscription).toMatch(
      /^arn:aws:sns:us-east-1:000000000000:shop-order-events-dev:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(event).toEqual({
      Records: [
        {
          EventVersion: '1.0',
          EventSubscriptionArn: subscription,
          EventSource: 'aws:sns',
          Sns: {
            Type: 'Notification',
            MessageId: result.messageId,
            TopicArn: 'arn:aws:sns:us-east-1:000000000000:shop-order-events-dev',
            Subject: null,
            Message: 'hello',
            Timestamp: '2025-01-02T03:04:05.678Z',
            SignatureVersion: '1',
            Signature: expect.any(String),
            SigningCertUrl: expect.stringMatching(/^https:\/\/sns\.us-east-1\.amazonaws\.com\/.+\.pem$/),
            UnsubscribeUrl: expect.stringContaining('Action=Unsubscribe'),
            MessageAttributes: {},
          },
        },
      ],
    });
    expect(result.deliveries[1]?.requestId).toBe('req-1');
    // One publish, one MessageId for every subscriber; a stable subscription per subscriber.
    expect(topics.publish('order-events', 'again').deliveries.map((delivery) => delivery.subscriptionArn)).toEqual(
      result.deliveries.map((delivery) => delivery.subscriptionArn),
    );
  });

  it('delivers to all subscribers or none', () => {
    const failing = new Topics({
      ...where,
      subscribers: topicSubscribers(manifest),
      physicalName: (name) => `shop-${name}-dev`,
      queues: store.queues,
      invokeAsync: () => {
        throw new Error('disk full');
      },
      transaction: (work) => store.transaction(work),
    });
    expect(() => failing.publish('order-events', 'x')).toThrow('disk full');
    expect(store.queues.counts('shop-audit-dev')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('refuses unknown topics, empty messages and a topic subscribed to a topic', () => {
    expect(() => topics.publish('nope', 'x')).toThrow(
      expect.objectContaining({ code: 'ARGUMENT_INVALID', hint: 'topics: order-events, quiet' }),
    );
    expect(() => topics.publish('order-events', '')).toThrow(/must not be empty/);
    expect(topics.publish('quiet', 'nobody listens').deliveries).toEqual([]);
    const withTopic = {
      ...manifest,
      resources: { ...manifest.resources, topics: { a: { subscribers: [{ type: 'topic' as const, name: 'b' }] } } },
    };
    expect(() => topicSubscribers(withTopic)).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID' }));
  });
});
