// The orders table, through the unmodified AWS SDK: locally AWS_ENDPOINT_URL_DYNAMODB points the
// client at the environment's table server; on AWS the same code reaches DynamoDB.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';

export interface Order {
  id: string;
  item: string;
  quantity: number;
  /** `queued` when the API put it on the queue, `stored` once the worker wrote it. */
  status: 'queued' | 'stored';
  createdAt: string;
}

const tableName = (): string => {
  const name = process.env.STAGECRAFT_TABLE_ORDERS;
  if (!name) throw new Error('STAGECRAFT_TABLE_ORDERS is not set');
  return name;
};

// One client per execution environment, reused across warm invocations.
const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export async function putOrder(order: Order): Promise<void> {
  await client.send(new PutCommand({ TableName: tableName(), Item: order }));
}

export async function getOrder(id: string): Promise<Order | undefined> {
  const { Item } = await client.send(new GetCommand({ TableName: tableName(), Key: { id } }));
  return Item as Order | undefined;
}

export async function listOrders(): Promise<Order[]> {
  const { Items } = await client.send(new ScanCommand({ TableName: tableName() }));
  return ((Items ?? []) as Order[]).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** Checks an order's fields; returns a reason when they are not acceptable. */
export function invalidOrder(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return 'the body must be a JSON object';
  const { id, item, quantity } = input as Record<string, unknown>;
  if (typeof id !== 'string' || id === '') return '"id" must be a non-empty string';
  if (typeof item !== 'string' || item === '') return '"item" must be a non-empty string';
  if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1)
    return '"quantity" must be a whole number above 0';
  return undefined;
}
