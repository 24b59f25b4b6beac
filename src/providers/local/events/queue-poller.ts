/**
 * The SQS event source mapping of one function and one queue: poll, invoke `live` with a batch,
 * delete what succeeded. A message is deleted only after the function succeeded for it, so a
 * crash at any moment loses nothing; what failed becomes visible again when its visibility
 * timeout runs out, and the queue's redrive policy moves it to the dead-letter queue once it
 * was received `maxReceiveCount` times.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
import type { SQSEvent } from 'aws-lambda';
import type { InvokeOutcome } from '../../../runtime/index.js';
import type { QueueRepo, ReceivedMessage, Redrive } from '../../../state/index.js';
import type { Where } from './arns.js';
import { sleep, systemClock, type Clock } from './clock.js';
import { LoopDriven, PollingLoop } from './loop.js';
import { fromSqsResult, toSqsEvent } from './sqs-event.js';

export interface QueuePollerOptions extends Where {
  queues: QueueRepo;
  /** The physical queue: `<app>-<queue>-<env>`. */
  queue: string;
  /** Invokes the function's `live` alias with the event (JSON text). */
  invoke: (payload: string) => Promise<InvokeOutcome>;
  /** The queue's visibility timeout: how long a batch stays hidden while the function works on it. */
  visibilityTimeoutMs: number;
  /** Default 10. */
  batchSize?: number;
  /** Wait up to this long to fill a batch (`MaximumBatchingWindowInSeconds`); default 0. */
  maximumBatchingWindowMs?: number;
  redrive?: Redrive;
  clock?: Clock;
  /** Pause between polls of an empty queue; default 50 ms. */
  idleDelayMs?: number;
  /** Batches in flight at once; default 1. */
  concurrency?: number;
  /** Polls only while this holds (e.g. while `live` points at a version). */
  enabled?: () => boolean;
  /** After every batch: what was sent, what came back, what was deleted. */
  onBatch?: (report: BatchReport) => void;
  onError?: (error: unknown) => void;
}

export interface BatchReport {
  queue: string;
  event: SQSEvent;
  /** The event as sent. */
  payload: string;
  /** Undefined when `invoke` itself threw. */
  outcome: InvokeOutcome | undefined;
  /** Message ids deleted because the function succeeded for them. */
  deleted: string[];
  /** Message ids left to become visible again. */
  failed: string[];
  /** Why the whole batch failed, when it did. */
  error?: string;
  /** Failed messages that were on their last allowed receive: the next receive dead-letters them. */
  exhausted: string[];
  /** The highest receive count in the batch: Lambda's `approximateInvokeCount` for it. */
  maxReceiveCount: number;
}

export class QueuePoller extends LoopDriven {
  protected readonly loop: PollingLoop;
  private readonly clock: Clock;
  private readonly batchSize: number;

  constructor(private readonly options: QueuePollerOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.batchSize = options.batchSize ?? 10;
    this.loop = new PollingLoop((took) => this.step(took), {
      clock: this.clock,
      idleDelayMs: options.idleDelayMs ?? 50,
      concurrency: options.concurrency ?? 1,
      onError: options.onError ?? (() => undefined),
    });
  }

  get queue(): string {
    return this.options.queue;
  }

  /** One receive → invoke → delete round; undefined when the queue had nothing visible. */
  async poll(took?: () => void): Promise<BatchReport | undefined> {
    const messages = await this.receiveBatch(took);
    if (messages.length === 0) return undefined;
    return this.process(messages);
  }

  private async step(took: () => void): Promise<boolean> {
    if (this.options.enabled && !this.options.enabled()) return false;
    const report = await this.poll(took);
    return report !== undefined && report.event.Records.length >= this.batchSize;
  }

  private receive(max: number): ReceivedMessage[] {
    const { queues, queue, visibilityTimeoutMs, redrive } = this.options;
    return queues.receive(queue, max, visibilityTimeoutMs, redrive ? { redrive } : {});
  }

  /** A batch, filled for up to the batching window when one is set. */
  private async receiveBatch(took: (() => void) | undefined): Promise<ReceivedMessage[]> {
    const messages = this.receive(this.batchSize);
    // Taken: while this batch fills and runs, another lane polls.
    if (messages.length > 0) took?.();
    const window = this.options.maximumBatchingWindowMs ?? 0;
    if (messages.length === 0 || window <= 0) return messages;
    const until = this.clock.now() + window;
    while (messages.length < this.batchSize && this.loop.running && this.clock.now() < until) {
      await sleep(this.clock, Math.min(this.options.idleDelayMs ?? 50, until - this.clock.now()));
      messages.push(...this.receive(this.batchSize - messages.length));
    }
    return messages;
  }

  private async process(messages: ReceivedMessage[]): Promise<BatchReport> {
    const { queues, queue, redrive } = this.options;
    const event = toSqsEvent(messages, this.options);
    const payload = JSON.stringify(event);
    const ids = messages.map((message) => message.messageId);
    let outcome: InvokeOutcome | undefined;
    let error: string | undefined;
    let failed: Set<string>;
    try {
      outcome = await this.options.invoke(payload);
    } catch (cause) {
      error = `the invocation did not complete: ${(cause as Error)?.message ?? String(cause)}`;
    }
    if (!outcome) {
      failed = new Set(ids);
    } else if (!outcome.ok) {
      // A function error or timeout: every message returns after its visibility timeout.
      error = `${outcome.error.errorType}: ${outcome.error.errorMessage}`;
      failed = new Set(ids);
    } else {
      const verdict = fromSqsResult(outcome.payload, ids);
      if (verdict.kind === 'failure') error = `invalid partial batch response: ${verdict.reason}`;
      failed = new Set(verdict.kind === 'success' ? [] : verdict.kind === 'partial' ? verdict.failed : ids);
    }
    const succeeded = messages.filter((message) => !failed.has(message.messageId));
    queues.deleteMany(
      queue,
      succeeded.map((message) => message.receiptHandle),
    );
    const report: BatchReport = {
      queue,
      event,
      payload,
      outcome,
      deleted: succeeded.map((message) => message.messageId),
      failed: ids.filter((id) => failed.has(id)),
      exhausted: redrive
        ? messages
            .filter((message) => failed.has(message.messageId) && message.receiveCount >= redrive.maxReceiveCount)
            .map((message) => message.messageId)
        : [],
      maxReceiveCount: Math.max(...messages.map((message) => message.receiveCount)),
      ...(error === undefined ? {} : { error }),
    };
    try {
      this.options.onBatch?.(report);
    } catch (cause) {
      this.options.onError?.(cause);
    }
    return report;
  }
}
