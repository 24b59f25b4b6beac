/**
 * Asynchronous invocation of one function alias, as Lambda does it for `InvocationType: Event`,
 * SNS and EventBridge: the event is queued and acknowledged at once, then run; on a function
 * error it is retried (twice by default, after a delay), and the outcome goes to the `onSuccess`
 * or `onFailure` destination as an invocation record.
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html
 *
 * Lambda's internal queue is durable, and so is ours: pending events are messages of an internal
 * queue in the state database. The request id is the message id, so every attempt and the record
 * carry the id `invoke` returned; a retry waits by changing the message's visibility.
 */
import { StagecraftError } from '../../../errors.js';
import type { InvokeOutcome } from '../../../runtime/index.js';
import type { QueueRepo, ReceivedMessage } from '../../../state/index.js';
import { systemClock, type Clock } from './clock.js';
import { invocationRecord, type DestinationCondition, type InvocationRecord } from './destinations.js';
import { LoopDriven, PollingLoop } from './loop.js';

/** The internal queue of an alias's pending asynchronous events; no physical queue name has a colon. */
export function asyncQueueName(instance: string, alias: string): string {
  return `lambda-async:${instance}:${alias}`;
}

export interface AsyncInvokerOptions {
  queues: QueueRepo;
  /** The internal queue holding the pending events, see `asyncQueueName`. */
  queue: string;
  /** The ARN the function is invoked with, for invocation records. */
  functionArn: string;
  /** Invokes the function once; `requestId` is the same for every attempt of one event. */
  invoke: (payload: string, options: { requestId: string }) => Promise<InvokeOutcome>;
  /** Lambda's `MaximumRetryAttempts`: 0 to 2, default 2. */
  maximumRetryAttempts?: number;
  /** Wait before each retry. Lambda waits 1 and 2 minutes; locally the default is 1 and 2 seconds. */
  retryDelaysMs?: readonly number[];
  /** Lambda's `MaximumEventAgeInSeconds`, in ms: default 6 hours. */
  maximumEventAgeMs?: number;
  /** How long an attempt may run before the event counts as abandoned (a crash) and is tried again; default 15 min 10 s. */
  attemptTimeoutMs?: number;
  /**
   * Called with the record once an event is done (success, retries exhausted, too old), in the
   * same transaction that removes the event: write destinations here, synchronously.
   */
  onDone?: (record: InvocationRecord, outcome: InvokeOutcome | undefined) => void;
  /** Runs the completion of an event in one transaction (`StateStore.transaction`). */
  transaction?: <T>(work: () => T) => T;
  /** Waits and event ages; it must tell the same time as the store's clock, which stamps `sentAt`. */
  clock?: Clock;
  /** Pause between polls of an empty queue; default 50 ms. */
  idleDelayMs?: number;
  /** Events run at once; default 1. */
  concurrency?: number;
  enabled?: () => boolean;
  onError?: (error: unknown) => void;
}

export interface AsyncAttempt {
  requestId: string;
  attempt: number;
  outcome: InvokeOutcome | undefined;
  /** Set once the event is done; undefined while a retry is pending. */
  condition: DestinationCondition | undefined;
}

export class AsyncInvoker extends LoopDriven {
  protected readonly loop: PollingLoop;
  private readonly clock: Clock;
  private readonly maxRetries: number;

  constructor(private readonly options: AsyncInvokerOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.maxRetries = options.maximumRetryAttempts ?? 2;
    if (!Number.isInteger(this.maxRetries) || this.maxRetries < 0 || this.maxRetries > 2) {
      throw new StagecraftError(
        'ARGUMENT_INVALID',
        `maximumRetryAttempts is 0, 1 or 2 (as Lambda's), got ${this.maxRetries}`,
      );
    }
    this.loop = new PollingLoop((took) => this.step(took), {
      clock: this.clock,
      idleDelayMs: options.idleDelayMs ?? 50,
      concurrency: options.concurrency ?? 1,
      onError: options.onError ?? (() => undefined),
    });
  }

  /** Queues `payload` (JSON text) durably and returns the request id, like Invoke with `InvocationType: Event` (202). */
  invoke(payload: string): string {
    try {
      JSON.parse(payload);
    } catch (cause) {
      throw new StagecraftError(
        'ARGUMENT_INVALID',
        `an asynchronous invocation's payload must be JSON: ${(cause as Error).message}`,
        { cause },
      );
    }
    return this.options.queues.send(this.options.queue, payload);
  }

  /** Runs one attempt of the oldest due event; undefined when none is due. */
  async poll(took?: () => void): Promise<AsyncAttempt | undefined> {
    const { queues, queue } = this.options;
    const [message] = queues.receive(queue, 1, this.options.attemptTimeoutMs ?? 910_000);
    if (!message) return undefined;
    took?.();
    const attempt = message.receiveCount;
    const base = { requestId: message.messageId, attempt };
    if (this.clock.now() - message.sentAt > (this.options.maximumEventAgeMs ?? 21_600_000)) {
      this.finish(message, 'EventAgeExceeded', attempt - 1, undefined);
      return { ...base, outcome: undefined, condition: 'EventAgeExceeded' };
    }
    if (attempt > this.maxRetries + 1) {
      // Earlier attempts were cut short by a crash and used up the retries.
      this.finish(message, 'RetriesExhausted', attempt - 1, undefined);
      return { ...base, outcome: undefined, condition: 'RetriesExhausted' };
    }
    let outcome: InvokeOutcome | undefined;
    try {
      outcome = await this.options.invoke(message.body, { requestId: message.messageId });
    } catch (error) {
      this.options.onError?.(error);
    }
    if (outcome?.ok) {
      this.finish(message, 'Success', attempt, outcome);
      return { ...base, outcome, condition: 'Success' };
    }
    if (attempt > this.maxRetries) {
      this.finish(message, 'RetriesExhausted', attempt, outcome);
      return { ...base, outcome, condition: 'RetriesExhausted' };
    }
    const delays = this.options.retryDelaysMs ?? [1_000, 2_000];
    queues.changeVisibility(queue, message.receiptHandle, delays[Math.min(attempt - 1, delays.length - 1)] ?? 0);
    return { ...base, outcome, condition: undefined };
  }

  private async step(took: () => void): Promise<boolean> {
    if (this.options.enabled && !this.options.enabled()) return false;
    return (await this.poll(took)) !== undefined;
  }

  private finish(
    message: ReceivedMessage,
    condition: DestinationCondition,
    invokeCount: number,
    outcome: InvokeOutcome | undefined,
  ): void {
    const record = invocationRecord({
      now: this.clock.now(),
      requestId: message.messageId,
      functionArn: this.options.functionArn,
      condition,
      approximateInvokeCount: invokeCount,
      requestPayload: message.body,
      ...(outcome ? { outcome } : {}),
    });
    const work = () => {
      this.options.onDone?.(record, outcome);
      this.options.queues.delete(this.options.queue, message.receiptHandle);
    };
    if (this.options.transaction) this.options.transaction(work);
    else work();
  }
}
