/**
 * SQS → Lambda, as a pure pair: `toSqsEvent` builds the event an SQS event source mapping sends,
 * `fromSqsResult` reads what the function answered (a partial batch response, or not).
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
 */
import type { SQSBatchItemFailure, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { createHash } from 'node:crypto';
import type { MessageAttributes, ReceivedMessage } from '../../../state/index.js';
import { queueArn, type Where } from './arns.js';

export function toSqsEvent(messages: readonly ReceivedMessage[], where: Where): SQSEvent {
  return { Records: messages.map((message) => toSqsRecord(message, where)) };
}

export function toSqsRecord(message: ReceivedMessage, where: Where): SQSRecord {
  const attributes: SQSRecord['attributes'] = {
    ApproximateReceiveCount: String(message.receiveCount),
    SentTimestamp: String(message.sentAt),
    SenderId: message.senderId ?? where.account,
    ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt),
  };
  if (message.deadLetterSource !== undefined)
    attributes.DeadLetterQueueSourceArn = queueArn(where, message.deadLetterSource);
  const names = Object.keys(message.attributes);
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes,
    messageAttributes: toLambdaAttributes(message.attributes),
    md5OfBody: md5(message.body),
    ...(names.length > 0 ? { md5OfMessageAttributes: md5OfMessageAttributes(message.attributes) } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn(where, message.queue),
    awsRegion: where.region,
  };
}

/** The API's `{ DataType, StringValue }` as the Lambda event spells it, list fields included. */
function toLambdaAttributes(attributes: MessageAttributes): SQSMessageAttributes {
  const result: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes)) {
    result[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: value.BinaryValue } : {}),
      stringListValues: [],
      binaryListValues: [],
      dataType: value.DataType,
    };
  }
  return result;
}

export function md5(text: string | Buffer): string {
  return createHash('md5').update(text).digest('hex');
}

/**
 * SQS's digest of the message attributes: names sorted, each name, type and value written with a
 * 4-byte big-endian length, the value after a transport byte (1 text, 2 binary).
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html#sqs-attributes-md5-message-digest-calculation
 */
export function md5OfMessageAttributes(attributes: MessageAttributes): string {
  const parts: Buffer[] = [];
  const field = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name] as MessageAttributes[string];
    field(Buffer.from(name, 'utf8'));
    field(Buffer.from(value.DataType, 'utf8'));
    if (value.DataType.startsWith('Binary')) {
      parts.push(Buffer.from([2]));
      field(Buffer.from(value.BinaryValue ?? '', 'base64'));
    } else {
      parts.push(Buffer.from([1]));
      field(Buffer.from(value.StringValue ?? '', 'utf8'));
    }
  }
  return md5(Buffer.concat(parts));
}

export type BatchVerdict =
  | { kind: 'success' }
  /** The function named these message ids as failed; the others succeeded. */
  | { kind: 'partial'; failed: string[] }
  /** The whole batch counts as failed, and why. */
  | { kind: 'failure'; reason: string };

/**
 * Lambda's reading of a partial batch response: no response, `{}`, a null or empty
 * `batchItemFailures` mean every message succeeded; a malformed list, or an `itemIdentifier`
 * that is empty, missing or not a message of this batch, fails the whole batch.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting
 */
export function fromSqsResult(payload: string, messageIds: readonly string[]): BatchVerdict {
  let response: unknown;
  try {
    response = payload.trim() === '' ? null : JSON.parse(payload);
  } catch {
    return { kind: 'failure', reason: 'the response is not valid JSON' };
  }
  if (response === null || typeof response !== 'object' || Array.isArray(response)) return { kind: 'success' };
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success' };
  if (!Array.isArray(failures)) return { kind: 'failure', reason: 'batchItemFailures is not a list' };
  const known = new Set(messageIds);
  const failed = new Set<string>();
  for (const item of failures as unknown[]) {
    const id = (item as Partial<SQSBatchItemFailure> | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '')
      return { kind: 'failure', reason: `a batch item failure has no itemIdentifier: ${JSON.stringify(item)}` };
    if (!known.has(id)) return { kind: 'failure', reason: `itemIdentifier ${id} is not a message of this batch` };
    failed.add(id);
  }
  return failed.size === 0 ? { kind: 'success' } : { kind: 'partial', failed: [...failed] };
}
