/**
 * The SQS operations of one environment's endpoint over the state database's queues, in the JSON
 * protocol's shapes (the query protocol is read into the same shapes). No second queue store.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_Operations.html
 */
import {
  checkMessage,
  type MessageAttributes,
  type QueueRepo,
  type ReceivedMessage,
  type Redrive,
} from '../../../state/index.js';
import { md5, md5OfMessageAttributes } from '../events/index.js';
import { fault, faultOf } from './fault.js';

/** A queue of this environment as the endpoint knows it. */
export interface SqsQueue {
  physical: string;
  url: string;
  arn: string;
  visibilityTimeoutSec: number;
  retentionSec: number;
  redrive?: Redrive & { deadLetterArn: string };
}

export interface SqsBackend {
  queues: QueueRepo;
  /** The queue a QueueUrl names; throws the fault AWS answers (unknown, or another environment's). */
  byUrl(url: string): SqsQueue;
  byName(name: string): SqsQueue;
  /** Called after messages were written, so pollers and long polls look now. */
  sent(queue: SqsQueue): void;
  /** Resolves after `ms`, or sooner when something is sent or the endpoint stops. */
  wait(ms: number): Promise<void>;
  stopped(): boolean;
  now(): number;
}

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;

export const SQS_OPERATIONS = {
  SendMessage: sendMessage,
  SendMessageBatch: sendMessageBatch,
  GetQueueUrl: getQueueUrl,
  GetQueueAttributes: getQueueAttributes,
  ReceiveMessage: receiveMessage,
  DeleteMessage: deleteMessage,
  DeleteMessageBatch: deleteMessageBatch,
  ChangeMessageVisibility: changeMessageVisibility,
  PurgeQueue: purgeQueue,
} satisfies Record<string, (backend: SqsBackend, input: Input) => Output | Promise<Output>>;

export type SqsOperation = keyof typeof SQS_OPERATIONS;

export function isSqsOperation(name: string): name is SqsOperation {
  return Object.hasOwn(SQS_OPERATIONS, name);
}

export function runSqs(backend: SqsBackend, operation: string, input: Input): Promise<Output> {
  if (!isSqsOperation(operation)) {
    throw fault(
      400,
      'UnsupportedOperation',
      `${operation} is not served by the local SQS endpoint`,
      'AWS.SimpleQueueService.UnsupportedOperation',
    );
  }
  return Promise.resolve(SQS_OPERATIONS[operation](backend, input));
}

const MAX_BATCH = 10;

function text(input: Input, name: string): string {
  const value = input[name];
  if (typeof value !== 'string' || value === '')
    throw fault(400, 'MissingParameter', `The request must contain the parameter ${name}.`);
  return value;
}

function integer(input: Input, name: string, min: number, max: number): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) {
    throw fault(
      400,
      'InvalidParameterValue',
      `Value ${String(value)} for parameter ${name} is invalid. Reason: Must be between ${min} and ${max}.`,
    );
  }
  return number;
}

function queueOf(backend: SqsBackend, input: Input): SqsQueue {
  return backend.byUrl(text(input, 'QueueUrl'));
}

/** Only standard queues are served; FIFO parameters on them are refused, as SQS refuses them. */
function refuseFifoParameters(input: Input): void {
  for (const name of ['MessageGroupId', 'MessageDeduplicationId']) {
    if (input[name] !== undefined) {
      throw fault(
        400,
        'InvalidParameterValue',
        `The request include parameter ${name} that is not valid for this queue type (standard)`,
      );
    }
  }
}

function attributesOf(input: Input): MessageAttributes {
  const value = input['MessageAttributes'];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object') throw fault(400, 'InvalidParameterValue', 'MessageAttributes must be a map');
  const result: MessageAttributes = {};
  for (const [name, attribute] of Object.entries(value as Record<string, Record<string, unknown>>)) {
    const { DataType, StringValue, BinaryValue } = attribute ?? {};
    result[name] = {
      DataType: String(DataType ?? ''),
      ...(typeof StringValue === 'string' ? { StringValue } : {}),
      ...(typeof BinaryValue === 'string' ? { BinaryValue } : {}),
    };
  }
  return result;
}

interface Outgoing {
  body: string;
  attributes: MessageAttributes;
  delayMs: number;
}

function outgoing(input: Input, bodyName = 'MessageBody'): Outgoing {
  refuseFifoParameters(input);
  const body = input[bodyName];
  if (typeof body !== 'string')
    throw fault(400, 'MissingParameter', `The request must contain the parameter ${bodyName}.`);
  const message = {
    body,
    attributes: attributesOf(input),
    delayMs: (integer(input, 'DelaySeconds', 0, 900) ?? 0) * 1_000,
  };
  try {
    checkMessage(message);
  } catch (error) {
    const wire = faultOf(
      error,
      /character/.test((error as Error).message) ? 'InvalidMessageContents' : 'InvalidParameterValue',
    );
    throw fault(wire.status, wire.code, wire.message);
  }
  return message;
}

function digests(message: Outgoing): Output {
  return {
    MD5OfMessageBody: md5(message.body),
    ...(Object.keys(message.attributes).length > 0
      ? { MD5OfMessageAttributes: md5OfMessageAttributes(message.attributes) }
      : {}),
  };
}

function sendMessage(backend: SqsBackend, input: Input): Output {
  const queue = queueOf(backend, input);
  const message = outgoing(input);
  // The insert commits (WAL, synchronous) before the answer: a crash after it loses nothing.
  const [messageId] = backend.queues.sendMany(queue.physical, [message]);
  backend.sent(queue);
  return { MessageId: messageId, ...digests(message) };
}

function entriesOf(input: Input): Input[] {
  const entries = input['Entries'];
  if (!Array.isArray(entries) || entries.length === 0) {
    throw fault(
      400,
      'EmptyBatchRequest',
      'There should be at least one SendMessageBatchRequestEntry in the request.',
      'AWS.SimpleQueueService.EmptyBatchRequest',
    );
  }
  if (entries.length > MAX_BATCH) {
    throw fault(
      400,
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are ${MAX_BATCH}. You have sent ${entries.length}.`,
      'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
    );
  }
  const ids = new Set<string>();
  for (const entry of entries as Input[]) {
    const id = entry?.['Id'];
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,80}$/.test(id)) {
      throw fault(
        400,
        'InvalidBatchEntryId',
        'A batch entry id can only contain alphanumeric characters, hyphens and underscores. ' +
          'It can be at most 80 letters long.',
        'AWS.SimpleQueueService.InvalidBatchEntryId',
      );
    }
    if (ids.has(id))
      throw fault(
        400,
        'BatchEntryIdsNotDistinct',
        `Id ${id} repeated.`,
        'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
      );
    ids.add(id);
  }
  return entries as Input[];
}

function failedEntry(id: string, error: unknown): Output {
  const wire = faultOf(error);
  return { Id: id, SenderFault: wire.type === 'Sender', Code: wire.code, Message: wire.message };
}

function sendMessageBatch(backend: SqsBackend, input: Input): Output {
  const queue = queueOf(backend, input);
  const accepted: { id: string; message: Outgoing }[] = [];
  const failed: Output[] = [];
  for (const entry of entriesOf(input)) {
    const id = entry['Id'] as string;
    try {
      accepted.push({ id, message: outgoing(entry) });
    } catch (error) {
      failed.push(failedEntry(id, error));
    }
  }
  const total = accepted.reduce((sum, { message }) => sum + Buffer.byteLength(message.body), 0);
  if (total > 1_048_576) {
    throw fault(
      400,
      'BatchRequestTooLong',
      `Batch requests cannot be longer than 1048576 bytes. You have sent ${total} bytes.`,
      'AWS.SimpleQueueService.BatchRequestTooLong',
    );
  }
  const ids =
    accepted.length === 0
      ? []
      : backend.queues.sendMany(
          queue.physical,
          accepted.map(({ message }) => message),
        );
  if (ids.length > 0) backend.sent(queue);
  return {
    Successful: accepted.map(({ id, message }, index) => ({ Id: id, MessageId: ids[index], ...digests(message) })),
    Failed: failed,
  };
}

function getQueueUrl(backend: SqsBackend, input: Input): Output {
  return { QueueUrl: backend.byName(text(input, 'QueueName')).url };
}

const QUEUE_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'QueueArn',
  'VisibilityTimeout',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy',
  'SqsManagedSseEnabled',
] as const;

function getQueueAttributes(backend: SqsBackend, input: Input): Output {
  const queue = queueOf(backend, input);
  const names = Array.isArray(input['AttributeNames']) ? (input['AttributeNames'] as string[]) : [];
  const wanted = names.includes('All') ? [...QUEUE_ATTRIBUTES] : names;
  for (const name of wanted) {
    if (!(QUEUE_ATTRIBUTES as readonly string[]).includes(name)) {
      throw fault(400, 'InvalidAttributeName', `Unknown Attribute ${name}.`);
    }
  }
  const counts = backend.queues.counts(queue.physical);
  const values: Record<string, string | undefined> = {
    ApproximateNumberOfMessages: String(counts.visible),
    ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
    ApproximateNumberOfMessagesDelayed: String(counts.delayed),
    QueueArn: queue.arn,
    VisibilityTimeout: String(queue.visibilityTimeoutSec),
    MaximumMessageSize: '1048576',
    MessageRetentionPeriod: String(queue.retentionSec),
    DelaySeconds: '0',
    ReceiveMessageWaitTimeSeconds: '0',
    RedrivePolicy:
      queue.redrive &&
      JSON.stringify({
        deadLetterTargetArn: queue.redrive.deadLetterArn,
        maxReceiveCount: queue.redrive.maxReceiveCount,
      }),
    SqsManagedSseEnabled: 'false',
  };
  const attributes = Object.fromEntries(
    wanted.flatMap((name) => (values[name] === undefined ? [] : [[name, values[name]]])),
  );
  return Object.keys(attributes).length === 0 ? {} : { Attributes: attributes };
}

const SYSTEM_ATTRIBUTES = [
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
] as const;

function namesOf(input: Input, key: string): string[] {
  const value = input[key];
  return Array.isArray(value) ? value.filter((name): name is string => typeof name === 'string') : [];
}

/** The message attributes a receive asked for: names, `All`, `.*`, or prefixes ending in `.*`. */
function selectAttributes(attributes: MessageAttributes, wanted: readonly string[]): MessageAttributes {
  const keep = (name: string) =>
    wanted.some(
      (pattern) =>
        pattern === 'All' ||
        pattern === '.*' ||
        pattern === name ||
        (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1))),
    );
  return Object.fromEntries(Object.entries(attributes).filter(([name]) => keep(name)));
}

async function receiveMessage(backend: SqsBackend, input: Input): Promise<Output> {
  const queue = queueOf(backend, input);
  const max = integer(input, 'MaxNumberOfMessages', 1, MAX_BATCH) ?? 1;
  const visibility = integer(input, 'VisibilityTimeout', 0, 43_200) ?? queue.visibilityTimeoutSec;
  const waitSec = integer(input, 'WaitTimeSeconds', 0, 20) ?? 0;
  const system = [...namesOf(input, 'AttributeNames'), ...namesOf(input, 'MessageSystemAttributeNames')];
  const wantedAttributes = namesOf(input, 'MessageAttributeNames');
  const deadline = backend.now() + waitSec * 1_000;
  let messages: ReceivedMessage[];
  // Long polling: look again whenever something is sent here (or every poll interval, for sends of
  // other processes), until a message comes or the wait is over.
  for (;;) {
    messages = backend.queues.receive(
      queue.physical,
      max,
      visibility * 1_000,
      queue.redrive ? { redrive: queue.redrive } : {},
    );
    const left = deadline - backend.now();
    if (messages.length > 0 || left <= 0 || backend.stopped()) break;
    await backend.wait(Math.min(left, 100));
  }
  if (messages.length === 0) return {};
  return {
    Messages: messages.map((message) => {
      const selected = selectAttributes(message.attributes, wantedAttributes);
      const values: Record<string, string> = {
        SenderId: message.senderId ?? '000000000000',
        SentTimestamp: String(message.sentAt),
        ApproximateReceiveCount: String(message.receiveCount),
        ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt),
      };
      const all = system.includes('All');
      const attributes = Object.fromEntries(
        SYSTEM_ATTRIBUTES.filter((name) => all || system.includes(name)).map((name) => [name, values[name]]),
      );
      return {
        MessageId: message.messageId,
        ReceiptHandle: message.receiptHandle,
        MD5OfBody: md5(message.body),
        Body: message.body,
        ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
        ...(Object.keys(selected).length > 0
          ? { MD5OfMessageAttributes: md5OfMessageAttributes(selected), MessageAttributes: selected }
          : {}),
      };
    }),
  };
}

/**
 * Receipt handles this endpoint hands out: `AQEB` and 32 base64url characters (24 random bytes);
 * without the prefix, as handed out before it, for a message received by an older Stagecraft.
 */
function checkHandle(handle: string): void {
  if (!/^(AQEB)?[A-Za-z0-9_-]{32}$/.test(handle)) {
    throw fault(400, 'ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`);
  }
}

function deleteMessage(backend: SqsBackend, input: Input): Output {
  const queue = queueOf(backend, input);
  const handle = text(input, 'ReceiptHandle');
  checkHandle(handle);
  // A stale handle deletes nothing and is no error, as on SQS.
  backend.queues.delete(queue.physical, handle);
  return {};
}

function deleteMessageBatch(backend: SqsBackend, input: Input): Output {
  const queue = queueOf(backend, input);
  const successful: Output[] = [];
  const failed: Output[] = [];
  const handles: string[] = [];
  for (const entry of entriesOf(input)) {
    const id = entry['Id'] as string;
    try {
      const handle = text(entry, 'ReceiptHandle');
      checkHandle(handle);
      handles.push(handle);
      successful.push({ Id: id });
    } catch (error) {
      failed.push(failedEntry(id, error));
    }
  }
  backend.queues.deleteMany(queue.physical, handles);
  return { Successful: successful, Failed: failed };
}

function changeMessageVisibility(backend: SqsBackend, input: Input): Output {
  const queue = queueOf(backend, input);
  const handle = text(input, 'ReceiptHandle');
  checkHandle(handle);
  const seconds = integer(input, 'VisibilityTimeout', 0, 43_200);
  if (seconds === undefined)
    throw fault(400, 'MissingParameter', 'The request must contain the parameter VisibilityTimeout.');
  if (!backend.queues.changeVisibility(queue.physical, handle, seconds * 1_000)) {
    throw fault(
      400,
      'MessageNotInflight',
      'Message does not exist or is not available for visibility timeout change.',
      'AWS.SimpleQueueService.MessageNotInflight',
    );
  }
  return {};
}

function purgeQueue(backend: SqsBackend, input: Input): Output {
  backend.queues.purge(queueOf(backend, input).physical);
  return {};
}
