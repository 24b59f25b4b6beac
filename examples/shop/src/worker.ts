// The orders queue worker: each SQS record carries an order; it is written to the table.
// Bad records are reported one by one (partial batch response) so good ones are not retried.
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { invalidOrder, putOrder, type Order } from './orders.js';

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      const input = JSON.parse(record.body) as Order;
      const problem = invalidOrder(input);
      if (problem) throw new Error(problem);
      await putOrder({ id: input.id, item: input.item, quantity: input.quantity, status: 'queued', createdAt: new Date().toISOString() });
    } catch (error) {
      console.error(`message ${record.messageId} failed: ${(error as Error).message}`);
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};
