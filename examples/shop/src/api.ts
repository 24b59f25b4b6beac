// The orders HTTP API (API Gateway HTTP API, payload format 2.0). POST /orders checks the order and
// puts it on the `orders` queue with the unmodified SDK; the worker writes it to the table.
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { getOrder, invalidOrder, listOrders, type Order } from './orders.js';

// One client per execution environment. Locally AWS_ENDPOINT_URL_SQS points it at `up`'s endpoint
// for this environment; on AWS the same code reaches SQS.
const sqs = new SQSClient({});

const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const method = event.requestContext?.http?.method ?? 'GET';
  const path = event.rawPath ?? '/';
  if (process.env.LOG_LEVEL === 'debug') console.debug(`${method} ${path}`);

  if (method === 'GET' && path === '/health') {
    return json(200, {
      status: 'ok',
      environment: process.env.STAGECRAFT_ENV,
      release: process.env.STAGECRAFT_RELEASE,
    });
  }
  if (method === 'GET' && path === '/orders') {
    return json(200, { orders: await listOrders() });
  }
  const id = event.pathParameters?.id ?? /^\/orders\/([^/]+)$/.exec(path)?.[1];
  if (method === 'GET' && id !== undefined) {
    const order = await getOrder(decodeURIComponent(id));
    return order ? json(200, order) : json(404, { message: `no order ${id}` });
  }
  if (method === 'POST' && path === '/orders') {
    let input: unknown;
    try {
      input = JSON.parse(
        event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? ''),
      );
    } catch {
      return json(400, { message: 'the body must be JSON' });
    }
    const problem = invalidOrder(input);
    if (problem) return json(400, { message: problem });
    const { id: orderId, item, quantity } = input as Order;
    const order: Order = { id: orderId, item, quantity, status: 'queued', createdAt: new Date().toISOString() };
    const { MessageId } = await sqs.send(
      new SendMessageCommand({
        QueueUrl: process.env.STAGECRAFT_QUEUE_ORDERS_URL,
        MessageBody: JSON.stringify(order),
        MessageAttributes: { item: { DataType: 'String', StringValue: item } },
      }),
    );
    return json(202, { ...order, messageId: MessageId });
  }
  return json(404, { message: `no route ${method} ${path}` });
};
