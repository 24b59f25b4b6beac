/**
 * Local SNS topics: `publish` fans a message out to the topic's subscribers, a queue getting the
 * SNS envelope as its message body (raw message delivery off, SNS's default) and a function an
 * asynchronous invocation with an SNS event. Subscribers come from the manifest:
 * `resources.topics.<t>.subscribers` and every function with a `topic: <t>` event.
 *
 * Every delivery is a row in the state database (a queue message, or a pending asynchronous
 * invocation), written in one transaction: a publish reaches all subscribers or none.
 */
import { StagecraftError } from '../../../errors.js';
import type { Manifest, Target } from '../../../manifest/index.js';
import type { QueueRepo } from '../../../state/index.js';
import type { Where } from './arns.js';
import { systemClock, type Clock } from './clock.js';
import { notification, subscriptionArn, toSnsEvent, toSqsEnvelope, type SnsMessageAttributes } from './sns-event.js';

export type Subscriber = Target & { type: 'queue' | 'function' };

/** Each topic's subscribers, from the manifest; refuses a topic subscribed to a topic, which SNS cannot do. */
export function topicSubscribers(manifest: Pick<Manifest, 'resources' | 'functions'>): Map<string, Subscriber[]> {
  const result = new Map<string, Subscriber[]>();
  const add = (topic: string, subscriber: Subscriber) => {
    const list = result.get(topic) ?? [];
    if (!list.some((known) => known.type === subscriber.type && known.name === subscriber.name)) list.push(subscriber);
    result.set(topic, list);
  };
  for (const [topic, def] of Object.entries(manifest.resources.topics)) {
    result.set(topic, result.get(topic) ?? []);
    for (const subscriber of def.subscribers) {
      if (subscriber.type === 'topic') {
        throw new StagecraftError(
          'MANIFEST_INVALID',
          `topic ${topic} lists topic:${subscriber.name} as a subscriber; SNS delivers to queues and functions only`,
          {
            hint: `subscribe queue:<name> or function:<name> to ${topic}, or publish to ${subscriber.name} from a function`,
          },
        );
      }
      add(topic, subscriber as Subscriber);
    }
  }
  for (const [fn, def] of Object.entries(manifest.functions)) {
    for (const event of def.events) if (event.type === 'topic') add(event.name, { type: 'function', name: fn });
  }
  return result;
}

export interface TopicsOptions extends Where {
  subscribers: ReadonlyMap<string, readonly Subscriber[]>;
  /** Physical names of this environment's topics and queues: `<app>-<name>-<env>`. */
  physicalName: (name: string) => string;
  queues: QueueRepo;
  /** Queues an asynchronous invocation of `fn`'s `live` alias (durably: it must not throw later). */
  invokeAsync: (fn: string, payload: string) => unknown;
  /** Runs the deliveries of one publish in one transaction (`StateStore.transaction`). */
  transaction?: <T>(work: () => T) => T;
  clock?: Clock;
}

export interface PublishOptions {
  subject?: string;
  attributes?: SnsMessageAttributes;
}

export interface PublishResult {
  /** SNS's MessageId: the same for every subscriber. */
  messageId: string;
  deliveries: { subscriber: string; subscriptionArn: string; queueMessageId?: string; requestId?: string }[];
}

export class Topics {
  private readonly clock: Clock;

  constructor(private readonly options: TopicsOptions) {
    this.clock = options.clock ?? systemClock;
  }

  has(topic: string): boolean {
    return this.options.subscribers.has(topic);
  }

  publish(topic: string, message: string, publish: PublishOptions = {}): PublishResult {
    const { options } = this;
    const subscribers = options.subscribers.get(topic);
    if (!subscribers) {
      throw new StagecraftError('ARGUMENT_INVALID', `no topic "${topic}"`, {
        hint: `topics: ${[...options.subscribers.keys()].join(', ') || '(none)'}`,
      });
    }
    const note = notification(options, options.physicalName(topic), message, { ...publish, now: this.clock.now() });
    const deliver = (): PublishResult['deliveries'] =>
      subscribers.map((subscriber) => {
        const label = `${subscriber.type}:${subscriber.name}`;
        const subscription = subscriptionArn(note.topicArn, label);
        if (subscriber.type === 'queue') {
          const queueMessageId = options.queues.send(
            options.physicalName(subscriber.name),
            toSqsEnvelope(options, note, subscription),
          );
          return { subscriber: label, subscriptionArn: subscription, queueMessageId };
        }
        const requestId = options.invokeAsync(subscriber.name, JSON.stringify(toSnsEvent(options, note, subscription)));
        return {
          subscriber: label,
          subscriptionArn: subscription,
          ...(typeof requestId === 'string' ? { requestId } : {}),
        };
      });
    const deliveries = options.transaction ? options.transaction(deliver) : deliver();
    return { messageId: note.messageId, deliveries };
  }
}
