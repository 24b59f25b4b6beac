/**
 * The local queues: the messages of every physical queue (`<app>-<queue>-<env>`) in the state
 * database, with the semantics of an SQS standard queue. A receive claims visible messages
 * atomically (one write transaction, so two consumers on two connections never get the same
 * visible message), hides them for the visibility timeout and hands out a fresh receipt handle;
 * a message is gone only when a consumer deletes it with its latest handle. A crash at any
 * moment therefore loses nothing; it may deliver a message twice (at-least-once, as SQS).
 *
 * Queue traffic is data, not a change of what runs where, so none of it goes to the ledger.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html
 */
import type { Database, Statement } from 'better-sqlite3';
import { randomBytes, randomUUID } from 'node:crypto';
import { StagecraftError } from '../errors.js';

/** A message attribute as the SQS API takes it; `BinaryValue` is base64. */
export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}
export type MessageAttributes = Record<string, MessageAttributeValue>;

export interface SendOptions {
  attributes?: MessageAttributes;
  /** SQS `DelaySeconds`, in ms: the message stays invisible this long after it is sent (at most 15 minutes). */
  delayMs?: number;
  /** Who sent it (SQS `SenderId`); event sources show the account when it is not set. */
  senderId?: string;
}

export interface QueueMessage {
  messageId: string;
  queue: string;
  body: string;
  attributes: MessageAttributes;
  senderId: string | undefined;
  /** ms since the epoch. */
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt: number | undefined;
  /** The handle of the latest receive; only it deletes the message. */
  receiptHandle: string | undefined;
  /** The queue a dead-lettered message came from (SQS's `DeadLetterQueueSourceArn`). */
  deadLetterSource: string | undefined;
}

export interface ReceivedMessage extends QueueMessage {
  receiptHandle: string;
  firstReceivedAt: number;
}

/** SQS's redrive policy: a message received `maxReceiveCount` times moves to the dead-letter queue instead of being delivered again. */
export interface Redrive {
  maxReceiveCount: number;
  deadLetterQueue: string;
}

export interface QueueCounts {
  /** SQS `ApproximateNumberOfMessages`. */
  visible: number;
  /** Received and not yet deleted or visible again (`ApproximateNumberOfMessagesNotVisible`). */
  inFlight: number;
  /** Sent with a delay that has not run out (`ApproximateNumberOfMessagesDelayed`). */
  delayed: number;
}

/** SQS's limits (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html). */
export const QUEUE_LIMITS = {
  maxMessageBytes: 1_048_576,
  maxDelayMs: 900_000,
  maxVisibilityTimeoutMs: 43_200_000,
  maxAttributes: 10,
  /** Lambda's event source mapping takes batches of up to 10,000 (with a batching window). */
  maxBatch: 10_000,
} as const;

interface MessageRow {
  seq: number;
  id: string;
  queue: string;
  body: string;
  attributes: string;
  sender_id: string | null;
  sent_at: number;
  visible_at: number;
  receive_count: number;
  first_received_at: number | null;
  receipt_handle: string | null;
  dead_letter_source: string | null;
}

const SQL = {
  insert: `INSERT INTO queue_messages (id, queue, body, attributes, sender_id, sent_at, visible_at)
    VALUES (@id, @queue, @body, @attributes, @senderId, @sentAt, @visibleAt)`,
  candidates:
    'SELECT seq, receive_count FROM queue_messages WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?',
  claim: `UPDATE queue_messages SET visible_at = @until, receive_count = receive_count + 1,
    first_received_at = COALESCE(first_received_at, @now), receipt_handle = @handle WHERE seq = @seq RETURNING *`,
  redrive: `UPDATE queue_messages SET queue = @dlq, dead_letter_source = COALESCE(dead_letter_source, queue),
    visible_at = @now, receipt_handle = NULL WHERE seq = @seq`,
  delete: 'DELETE FROM queue_messages WHERE queue = ? AND receipt_handle = ?',
  changeVisibility:
    'UPDATE queue_messages SET visible_at = ? WHERE queue = ? AND receipt_handle = ? AND visible_at > ?',
  counts: `SELECT COALESCE(SUM(visible_at <= @now), 0) AS visible, COALESCE(SUM(visible_at > @now AND receive_count > 0), 0) AS inFlight,
    COALESCE(SUM(visible_at > @now AND receive_count = 0), 0) AS delayed FROM queue_messages WHERE queue = @queue`,
} as const;

export class QueueRepo {
  /** Prepared on first use, so a read-only store of an older schema still opens. */
  private readonly prepared = new Map<keyof typeof SQL, Statement>();

  constructor(
    private readonly db: Database,
    private readonly now: () => Date,
  ) {}

  /** Puts one message on `queue` durably and returns its SQS `MessageId`. */
  send(queue: string, body: string, options: SendOptions = {}): string {
    return this.sendMany(queue, [{ body, ...options }])[0] as string;
  }

  /** Puts several messages on `queue` in one transaction: all of them or none. */
  sendMany(queue: string, messages: readonly (SendOptions & { body: string })[]): string[] {
    const now = this.nowMs();
    const rows = messages.map((message) => {
      checkMessage(message);
      const delayMs = message.delayMs ?? 0;
      return {
        id: randomUUID(),
        queue,
        body: message.body,
        attributes: JSON.stringify(message.attributes ?? {}),
        senderId: message.senderId ?? null,
        sentAt: now,
        visibleAt: now + delayMs,
      };
    });
    this.db
      .transaction(() => {
        for (const row of rows) this.statement('insert').run(row);
      })
      .immediate();
    return rows.map((row) => row.id);
  }

  /**
   * Claims up to `max` visible messages, oldest first: each becomes invisible for
   * `visibilityTimeoutMs`, counts one more receive and gets a new receipt handle. With `redrive`,
   * a message already received `maxReceiveCount` times moves to the dead-letter queue instead,
   * as SQS does on the receive after the last allowed one.
   */
  receive(
    queue: string,
    max: number,
    visibilityTimeoutMs: number,
    options: { redrive?: Redrive } = {},
  ): ReceivedMessage[] {
    if (!Number.isInteger(max) || max < 1 || max > QUEUE_LIMITS.maxBatch) {
      throw new StagecraftError(
        'ARGUMENT_INVALID',
        `receive takes 1 to ${QUEUE_LIMITS.maxBatch} messages at a time, got ${max}`,
      );
    }
    checkVisibility(visibilityTimeoutMs);
    const { redrive } = options;
    return this.db
      .transaction(() => {
        const now = this.nowMs();
        const claimed: ReceivedMessage[] = [];
        // Messages moved to the dead-letter queue free their place in the batch: look again.
        for (;;) {
          const candidates = this.statement('candidates').all(queue, now, max - claimed.length) as {
            seq: number;
            receive_count: number;
          }[];
          let moved = 0;
          for (const { seq, receive_count: count } of candidates) {
            if (redrive && count >= redrive.maxReceiveCount) {
              this.statement('redrive').run({ seq, dlq: redrive.deadLetterQueue, now });
              moved++;
              continue;
            }
            const row = this.statement('claim').get({
              seq,
              now,
              until: now + visibilityTimeoutMs,
              handle: receiptHandle(),
            }) as MessageRow;
            claimed.push(toMessage(row) as ReceivedMessage);
          }
          if (moved === 0 || claimed.length >= max) return claimed;
        }
      })
      .immediate();
  }

  /**
   * Deletes the message this handle was issued for. Like SQS, a stale handle (the message was
   * received again since) or one of a deleted message is not an error: it deletes nothing.
   */
  delete(queue: string, receiptHandle: string): boolean {
    return this.statement('delete').run(queue, receiptHandle).changes > 0;
  }

  /** Deletes several messages in one transaction; returns how many were deleted. */
  deleteMany(queue: string, receiptHandles: readonly string[]): number {
    if (receiptHandles.length === 0) return 0;
    return this.db
      .transaction(() =>
        receiptHandles.reduce((count, handle) => count + this.statement('delete').run(queue, handle).changes, 0),
      )
      .immediate();
  }

  /**
   * Sets how long an in-flight message stays invisible from now (0: visible at once). False when
   * the handle is stale or the message is no longer in flight, where SQS answers MessageNotInflight.
   */
  changeVisibility(queue: string, receiptHandle: string, visibilityTimeoutMs: number): boolean {
    checkVisibility(visibilityTimeoutMs);
    const now = this.nowMs();
    return this.statement('changeVisibility').run(now + visibilityTimeoutMs, queue, receiptHandle, now).changes > 0;
  }

  /** Moves one message to `deadLetterQueue` at once, visible there, keeping its id, body and receive count. */
  moveToDeadLetter(queue: string, messageId: string, deadLetterQueue: string): boolean {
    const { changes } = this.db
      .prepare(
        `UPDATE queue_messages SET queue = ?, dead_letter_source = COALESCE(dead_letter_source, queue),
      visible_at = ?, receipt_handle = NULL WHERE queue = ? AND id = ?`,
      )
      .run(deadLetterQueue, this.nowMs(), queue, messageId);
    return changes > 0;
  }

  counts(queue: string): QueueCounts {
    return this.statement('counts').get({ queue, now: this.nowMs() }) as QueueCounts;
  }

  /** Every queue that holds messages, with its counts, for the dashboard. */
  summary(): (QueueCounts & { queue: string })[] {
    const now = this.nowMs();
    return this.db
      .prepare(
        `SELECT queue, SUM(visible_at <= @now) AS visible, SUM(visible_at > @now AND receive_count > 0) AS inFlight,
      SUM(visible_at > @now AND receive_count = 0) AS delayed FROM queue_messages GROUP BY queue ORDER BY queue`,
      )
      .all({ now }) as (QueueCounts & { queue: string })[];
  }

  /** The messages of `queue` in the order they were sent, without receiving them (SQS has no such call; the dashboard and tests do). */
  list(queue: string, options: { limit?: number } = {}): QueueMessage[] {
    const limit = Math.max(0, Math.floor(options.limit ?? 100));
    return (
      this.db
        .prepare('SELECT * FROM queue_messages WHERE queue = ? ORDER BY seq LIMIT ?')
        .all(queue, limit) as MessageRow[]
    ).map(toMessage);
  }

  get(messageId: string): QueueMessage | undefined {
    const row = this.db.prepare('SELECT * FROM queue_messages WHERE id = ?').get(messageId) as MessageRow | undefined;
    return row && toMessage(row);
  }

  /** Deletes every message of `queue`, in flight or not (SQS PurgeQueue); returns how many. */
  purge(queue: string): number {
    return this.db.prepare('DELETE FROM queue_messages WHERE queue = ?').run(queue).changes;
  }

  private statement(key: keyof typeof SQL): Statement {
    let statement = this.prepared.get(key);
    if (!statement) {
      statement = this.db.prepare(SQL[key]);
      this.prepared.set(key, statement);
    }
    return statement;
  }

  private nowMs(): number {
    return this.now().getTime();
  }
}

/**
 * A fresh handle, beginning as SQS's do (`AQEB…`) and so never with `-`: the aws CLI would take
 * `--receipt-handle -X…` for an option of its own, and a script that works against AWS would not here.
 */
function receiptHandle(): string {
  return `AQEB${randomBytes(24).toString('base64url')}`;
}

function checkVisibility(ms: number): void {
  if (!Number.isInteger(ms) || ms < 0 || ms > QUEUE_LIMITS.maxVisibilityTimeoutMs) {
    throw new StagecraftError('ARGUMENT_INVALID', `a visibility timeout is 0 to 12 hours, got ${ms} ms`);
  }
}

/** The characters SQS accepts in a body and in attribute values (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html). */
// eslint-disable-next-line no-control-regex
const INVALID_CHARACTER = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
const DATA_TYPE = /^(String|Number|Binary)(\.[A-Za-z0-9_.-]+)?$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function invalid(message: string): StagecraftError {
  return new StagecraftError('ARGUMENT_INVALID', message, {
    hint: 'see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html',
  });
}

/**
 * SQS's rules for a message, checked before anything is written (DESIGN §5, invariant 8): here
 * before a local send, and by the aws provider before SendMessage, so both refuse the same way.
 */
export function checkMessage({ body, attributes = {}, delayMs = 0 }: SendOptions & { body: string }): void {
  if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > QUEUE_LIMITS.maxDelayMs) {
    throw new StagecraftError('ARGUMENT_INVALID', `a message delay is 0 to 15 minutes, got ${delayMs} ms`);
  }
  if (body.length === 0) throw invalid('a message body is at least one character');
  if (INVALID_CHARACTER.test(body))
    throw invalid(
      'the message body holds a character SQS does not accept (allowed: #x9, #xA, #xD, #x20 to #xD7FF, #xE000 to #xFFFD, #x10000 to #x10FFFF)',
    );
  const names = Object.keys(attributes);
  if (names.length > QUEUE_LIMITS.maxAttributes)
    throw invalid(`a message has at most ${QUEUE_LIMITS.maxAttributes} attributes, got ${names.length}`);
  let size = Buffer.byteLength(body);
  for (const name of names) {
    const value = attributes[name] as MessageAttributeValue;
    if (
      !ATTRIBUTE_NAME.test(name) ||
      /^(aws\.|amazon\.)/i.test(name) ||
      name.startsWith('.') ||
      name.endsWith('.') ||
      name.includes('..')
    ) {
      throw invalid(
        `"${name}" is not a valid attribute name: [A-Za-z0-9_.-], at most 256 characters, not starting with AWS. or Amazon., no leading, trailing or double dots`,
      );
    }
    if (typeof value !== 'object' || value === null || !DATA_TYPE.test(value.DataType))
      throw invalid(`attribute ${name} needs a DataType of String, Number or Binary (optionally with a .label)`);
    const binary = value.DataType.startsWith('Binary');
    const text = binary ? value.BinaryValue : value.StringValue;
    if (typeof text !== 'string' || text.length === 0)
      throw invalid(
        `attribute ${name} of type ${value.DataType} needs a non-empty ${binary ? 'BinaryValue' : 'StringValue'}`,
      );
    if (binary && !BASE64.test(text)) throw invalid(`attribute ${name}: BinaryValue is base64`);
    if (!binary && INVALID_CHARACTER.test(text))
      throw invalid(`attribute ${name} holds a character SQS does not accept`);
    if (value.DataType.startsWith('Number') && !NUMBER.test(text))
      throw invalid(`attribute ${name} is a Number, got "${text}"`);
    size +=
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType) +
      (binary ? Buffer.from(text, 'base64').length : Buffer.byteLength(text));
  }
  if (size > QUEUE_LIMITS.maxMessageBytes)
    throw invalid(`a message with its attributes is at most ${QUEUE_LIMITS.maxMessageBytes} bytes, got ${size}`);
}

function toMessage(row: MessageRow): QueueMessage {
  return {
    messageId: row.id,
    queue: row.queue,
    body: row.body,
    attributes: JSON.parse(row.attributes) as MessageAttributes,
    senderId: row.sender_id ?? undefined,
    sentAt: row.sent_at,
    visibleAt: row.visible_at,
    receiveCount: row.receive_count,
    firstReceivedAt: row.first_received_at ?? undefined,
    receiptHandle: row.receipt_handle ?? undefined,
    deadLetterSource: row.dead_letter_source ?? undefined,
  };
}
