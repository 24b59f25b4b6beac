/**
 * Every event source of one environment, wired from the manifest: a queue poller per `queue`
 * event, an asynchronous invoker per function (used by topics, schedules, destinations and
 * `invokeAsync`), the topics, and a scheduler for `schedule` events. Everything calls the
 * functions' `live` alias through the injected `invoke` (DESIGN §5, invariant 6), and everything
 * pending lives in the state database, so stopping or killing the process loses nothing.
 */
import { randomUUID } from 'node:crypto';
import { StagecraftError } from '../../../errors.js';
import { assertPayloadSize } from '../../../runtime/index.js';
import { aliasName, instanceName, resourceName, type Manifest } from '../../../manifest/index.js';
import type { SendOptions, StateStore } from '../../../state/index.js';
import { functionArn, type Where } from './arns.js';
import { AsyncInvoker, asyncQueueName, type AsyncAttempt } from './async-invoker.js';
import { systemClock, type Clock } from './clock.js';
import {
  invocationRecord,
  sendToDestination,
  type DestinationSinks,
  type InvocationRecord,
  type InvokeResult,
} from './destinations.js';
import { QueuePoller, type BatchReport } from './queue-poller.js';
import { Scheduler, type ScheduleDef } from './scheduler.js';
import { topicSubscribers, Topics, type PublishOptions, type PublishResult } from './topics.js';

export interface EnvironmentEventsOptions {
  manifest: Manifest;
  env: string;
  store: StateStore;
  /** The account in ARNs and `SenderId`s. */
  account: string;
  /** Invokes `fn`'s `live` alias in this environment (optionally with the request id of an asynchronous event). */
  invoke: (fn: string, payload: string, context: { requestId?: string }) => Promise<InvokeResult>;
  /** Whether `fn` has a `live` version here; sources of other functions wait. Default: always. */
  isLive?: (fn: string) => boolean;
  clock?: Clock;
  /** Waits before the asynchronous retries; default 1 s and 2 s (Lambda: 1 and 2 minutes). */
  asyncRetryDelaysMs?: readonly number[];
  /** Pause between polls of an empty queue; default 50 ms. */
  idleDelayMs?: number;
  onActivity?: (activity: EventActivity) => void;
  onError?: (error: unknown, source: string) => void;
}

export type EventActivity =
  | { kind: 'queue'; function: string; report: BatchReport }
  | { kind: 'async'; function: string; attempt: AsyncAttempt }
  | { kind: 'schedule'; function: string; rule: string; scheduledAt: number }
  | {
      kind: 'destination';
      function: string;
      condition: InvocationRecord['requestContext']['condition'];
      target: string;
    };

/** SQS's console default when a dead-letter queue is set without `maxReceiveCount`. */
const DEFAULT_MAX_RECEIVE_COUNT = 10;

export class EnvironmentEvents {
  readonly topics: Topics;
  private readonly pollers: { fn: string; logical: string; queue: string; poller: QueuePoller }[] = [];
  private readonly invokers = new Map<string, AsyncInvoker>();
  private readonly scheduler: Scheduler;
  private readonly where: Where;
  private readonly sinks: DestinationSinks;

  constructor(private readonly options: EnvironmentEventsOptions) {
    const { manifest, env, store } = options;
    const clock = options.clock ?? systemClock;
    const where = (this.where = { region: manifest.region, account: options.account });
    const isLive = (fn: string) => options.isLive?.(fn) ?? true;
    const report = (source: string) => (error: unknown) => options.onError?.(error, source);
    const transaction = <T>(work: () => T): T => store.transaction(work);
    this.sinks = {
      sendToQueue: (queue, body) => this.send(queue, body),
      publish: (topic, message) => this.publish(topic, message),
      // A destination's record is Lambda's own: the 256 KB quota is for callers' events.
      invokeAsync: (fn, payload) => this.queueAsync(fn, payload),
    };
    this.topics = new Topics({
      ...where,
      subscribers: topicSubscribers(manifest),
      physicalName: (name) => this.physical(name),
      queues: store.queues,
      invokeAsync: (fn, payload) => this.enqueue(fn, payload),
      transaction,
      clock,
    });

    for (const [fn, def] of Object.entries(manifest.functions)) {
      const instance = instanceName(manifest, fn, env);
      const alias = aliasName(manifest, env, 'live');
      this.invokers.set(
        fn,
        new AsyncInvoker({
          queues: store.queues,
          queue: asyncQueueName(instance, alias),
          functionArn: functionArn(where, instance, alias),
          invoke: (payload, { requestId }) => options.invoke(fn, payload, { requestId }),
          retryDelaysMs: options.asyncRetryDelaysMs ?? [1_000, 2_000],
          attemptTimeoutMs: def.timeout * 1_000 + 10_000,
          onDone: (record) => this.deliver(fn, record),
          transaction,
          clock,
          idleDelayMs: Math.max(100, options.idleDelayMs ?? 50),
          concurrency: Math.min(def.concurrency, 10),
          enabled: () => isLive(fn),
          onError: report(`async ${fn}`),
        }),
      );
      for (const event of def.events) {
        if (event.type !== 'queue') continue;
        const queueDef = manifest.resources.queues[event.name];
        if (!queueDef)
          throw new StagecraftError(
            'MANIFEST_INVALID',
            `function ${fn} reads queue ${event.name}, which is not declared in resources.queues`,
          );
        const queue = this.physical(event.name);
        const poller = new QueuePoller({
          ...where,
          queues: store.queues,
          queue,
          batchSize: event.batchSize,
          visibilityTimeoutMs: queueDef.visibilityTimeout * 1_000,
          ...(event.maximumBatchingWindow === undefined
            ? {}
            : { maximumBatchingWindowMs: event.maximumBatchingWindow }),
          ...(queueDef.deadLetter === undefined
            ? {}
            : {
                redrive: {
                  maxReceiveCount: queueDef.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT,
                  deadLetterQueue: this.physical(queueDef.deadLetter),
                },
              }),
          invoke: (payload) => options.invoke(fn, payload, {}),
          // Lambda starts an SQS mapping with five concurrent batches; the function's limit caps it.
          concurrency: Math.min(def.concurrency, 5),
          clock,
          idleDelayMs: options.idleDelayMs ?? 50,
          enabled: () => isLive(fn),
          onBatch: (batch) => this.afterBatch(fn, instance, alias, batch),
          onError: report(`queue ${event.name} → ${fn}`),
        });
        this.pollers.push({ fn, logical: event.name, queue, poller });
      }
    }

    const schedules: ScheduleDef[] = [];
    const ruleOwners = new Map<string, string>();
    for (const [fn, def] of Object.entries(manifest.functions)) {
      def.events
        .filter((event) => event.type === 'schedule')
        .forEach((event, index) => {
          const rule = resourceName(manifest, `${fn}-schedule-${index + 1}`, env);
          ruleOwners.set(rule, fn);
          schedules.push({
            rule,
            schedule: event.expression,
            ...(event.input === undefined ? {} : { input: event.input }),
            // EventBridge invokes asynchronously; a function without `live` has no target to fire.
            invoke: (payload) => (isLive(fn) ? this.invokeAsync(fn, payload) : undefined),
          });
        });
    }
    this.scheduler = new Scheduler({
      ...where,
      schedules,
      clock,
      onError: report('schedule'),
      onFire: ({ rule, scheduledAt }) =>
        options.onActivity?.({ kind: 'schedule', function: ruleOwners.get(rule) ?? rule, rule, scheduledAt }),
    });
  }

  start(): void {
    for (const { poller } of this.pollers) poller.start();
    for (const invoker of this.invokers.values()) invoker.start();
    this.scheduler.start();
  }

  /** Stops every source and waits for what is in flight; what is still queued stays for the next start. */
  async stop(): Promise<void> {
    await this.scheduler.stop();
    await Promise.all(this.pollers.map(({ poller }) => poller.stop()));
    await Promise.all([...this.invokers.values()].map((invoker) => invoker.stop()));
  }

  /** The physical name of a queue or topic of this environment. */
  physical(name: string): string {
    return resourceName(this.options.manifest, name, this.options.env);
  }

  /** Puts a message on a queue of this environment (by its manifest name); returns its message id. */
  send(queue: string, body: string, options: SendOptions = {}): string {
    if (!(queue in this.options.manifest.resources.queues)) {
      throw new StagecraftError('ARGUMENT_INVALID', `no queue "${queue}" in ${this.options.manifest.app}`, {
        hint: `queues: ${Object.keys(this.options.manifest.resources.queues).join(', ') || '(none)'}`,
      });
    }
    const physical = this.physical(queue);
    const id = this.options.store.queues.send(physical, body, options);
    this.wakeQueue(physical);
    return id;
  }

  /** Makes the pollers of a queue (by its physical name) look now: something was sent to it from outside. */
  wakeQueue(physical: string): void {
    for (const entry of this.pollers) if (entry.queue === physical) entry.poller.wake();
  }

  publish(topic: string, message: string, options: PublishOptions = {}): PublishResult {
    const result = this.topics.publish(topic, message, options);
    const reached = new Set(result.deliveries.map((delivery) => delivery.subscriber));
    for (const entry of this.pollers) if (reached.has(`queue:${entry.logical}`)) entry.poller.wake();
    for (const [fn, invoker] of this.invokers) if (reached.has(`function:${fn}`)) invoker.wake();
    return result;
  }

  /** Queues an asynchronous invocation of `fn`'s `live` alias; returns the request id. */
  invokeAsync(fn: string, payload: string): string {
    assertPayloadSize(payload, 'async'); // as Lambda refuses InvocationType Event over 256 KB
    return this.queueAsync(fn, payload);
  }

  private queueAsync(fn: string, payload: string): string {
    const requestId = this.enqueue(fn, payload);
    this.invokers.get(fn)?.wake();
    return requestId;
  }

  private enqueue(fn: string, payload: string): string {
    const invoker = this.invokers.get(fn);
    if (!invoker) {
      throw new StagecraftError('FUNCTION_UNKNOWN', `no function "${fn}" in ${this.options.manifest.app}`, {
        hint: `functions: ${[...this.invokers.keys()].join(', ')}`,
      });
    }
    return invoker.invoke(payload);
  }

  /** Runs inside the transaction that completes the event: the record and the completion commit together. */
  private deliver(fn: string, record: InvocationRecord): void {
    const target = sendToDestination(this.options.manifest.functions[fn]?.destinations, record, this.sinks);
    if (target)
      this.options.onActivity?.({
        kind: 'destination',
        function: fn,
        condition: record.requestContext.condition,
        target: `${target.type}:${target.name}`,
      });
  }

  /** Destinations of a queue-triggered invocation: success when the function answered, failure when a message used its last receive. */
  private afterBatch(fn: string, instance: string, alias: string, batch: BatchReport): void {
    this.options.onActivity?.({ kind: 'queue', function: fn, report: batch });
    const { outcome } = batch;
    // The function answered (a partial batch response included): Success. Messages on their last
    // receive that failed: RetriesExhausted. A partial batch can be both.
    const conditions = [
      ...(outcome?.ok === true && batch.error === undefined ? ['Success' as const] : []),
      ...(batch.exhausted.length > 0 ? ['RetriesExhausted' as const] : []),
    ];
    if (conditions.length === 0) return;
    const now = (this.options.clock ?? systemClock).now();
    this.options.store.transaction(() => {
      for (const condition of conditions) {
        this.deliver(
          fn,
          invocationRecord({
            now,
            requestId: outcome?.requestId || randomUUID(),
            functionArn: functionArn(this.where, instance, alias),
            condition,
            approximateInvokeCount: batch.maxReceiveCount,
            requestPayload: batch.payload,
            ...(outcome ? { outcome } : {}),
          }),
        );
      }
    });
  }
}
