/**
 * `stagecraft send` on the aws provider: one message onto the SQS queue the environment's stack
 * made, found by its physical name (GetQueueUrl), then SendMessage. The message is checked
 * against SQS's rules first, as the local queues check it, so a bad one is refused before any
 * call and the same way on both providers.
 */
import { GetQueueUrlCommand, SendMessageCommand, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { StagecraftError } from '../../errors.js';
import { checkMessage, type MessageAttributes } from '../../state/index.js';
import type { MessageOptions } from '../provider.js';
import { errorName, isNotFound, providerError } from '../../aws-errors.js';
import type { AwsClients } from './clients.js';

export async function sendToQueue(
  clients: AwsClients,
  queue: string,
  body: string,
  options: MessageOptions = {},
): Promise<{ messageId: string }> {
  checkMessage({ body, ...options });
  const delayMs = options.delayMs ?? 0;
  // The local queues keep milliseconds; SQS takes DelaySeconds, a whole number from 0 to 900.
  // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
  if (delayMs % 1000 !== 0) {
    throw new StagecraftError(
      'ARGUMENT_INVALID',
      `SQS delays a message by whole seconds, 0 to 900 (DelaySeconds), got ${delayMs} ms`,
    );
  }
  const sqs = await clients.sqs();
  let url: string | undefined;
  try {
    url = (await sqs.send(new GetQueueUrlCommand({ QueueName: queue }))).QueueUrl;
  } catch (error) {
    // The JSON protocol names it QueueDoesNotExist, the query protocol AWS.SimpleQueueService.NonExistentQueue.
    if (!isNotFound(error) && !/QueueDoesNotExist|NonExistentQueue/.test(errorName(error)))
      throw providerError(error, `cannot find the SQS queue ${queue}`);
  }
  if (url === undefined) {
    throw new StagecraftError('QUEUE_NOT_FOUND', `the SQS queue ${queue} does not exist`, {
      hint: "the environment's stack creates its queues: deploy the environment first (`stagecraft deploy <env>`)",
    });
  }
  try {
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: body,
        DelaySeconds: delayMs / 1000,
        MessageAttributes: toSqsAttributes(options.attributes ?? {}),
      }),
    );
    if (!sent.MessageId) throw new Error('SQS SendMessage returned no MessageId');
    return { messageId: sent.MessageId };
  } catch (error) {
    throw providerError(error, `cannot send a message to the SQS queue ${queue}`);
  }
}

/** Stagecraft keeps a Binary value as base64 text (as the SQS JSON API does); the SDK takes bytes. */
function toSqsAttributes(attributes: MessageAttributes): Record<string, MessageAttributeValue> | undefined {
  const entries = Object.entries(attributes);
  if (entries.length === 0) return undefined;
  return Object.fromEntries(
    entries.map(([name, { DataType, StringValue, BinaryValue }]) => [
      name,
      BinaryValue === undefined
        ? { DataType, StringValue }
        : { DataType, BinaryValue: Buffer.from(BinaryValue, 'base64') },
    ]),
  );
}
