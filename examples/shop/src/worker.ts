// The orders queue worker: each SQS record carries an order; it is written to the table and
// announced on the `notify` topic (which fans out to the audit queue). Bad records are reported
// one by one (partial batch response) so good ones are not retried.
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { invalidOrder, putOrder, type Order } from './orders.js';

const sns = new SNSClient({});

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      const input = JSON.parse(record.body) as Order;
      const problem = invalidOrder(input);
      if (problem) throw new Error(problem);
      const order: Order = {
        id: input.id,
        item: input.item,
        quantity: input.quantity,
        status: 'stored',
        createdAt: input.createdAt ?? new Date().toISOString(),
      };
      await putOrder(order);
      await sns.send(
        new PublishCommand({
          TopicArn: process.env.STAGECRAFT_TOPIC_NOTIFY_ARN,
          Subject: 'order stored',
          Message: JSON.stringify(order),
        }),
      );
    } catch (error) {
      console.error(`message ${record.messageId} failed: ${(error as Error).message}`);
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};
