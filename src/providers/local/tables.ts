/**
 * Local tables: a DynamoDB-compatible server (dynalite, LevelDB on disk under
 * `.stagecraft/tables/<env>/`) per environment, with the manifest's tables created. Handlers
 * reach it through `AWS_ENDPOINT_URL_DYNAMODB` with unmodified AWS SDK code; data survives
 * restarts of `up`.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Manifest } from '../../manifest/index.js';
import { resourceName } from '../../manifest/index.js';
import { StagecraftError } from '../../errors.js';

export interface TableServer {
  /** `http://127.0.0.1:<port>`, for AWS_ENDPOINT_URL_DYNAMODB. */
  endpoint: string;
  stop(): Promise<void>;
}

export interface TableServerOptions {
  dir: string;
  app: string;
  /** The environments whose tables this server holds. */
  environments: readonly string[];
  region: string;
  tables: Manifest['resources']['tables'];
}

/** Credentials the local server accepts; handlers get them the way Lambda hands out its own. */
export const LOCAL_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'stagecraft-local',
  AWS_SECRET_ACCESS_KEY: 'stagecraft-local',
  AWS_SESSION_TOKEN: 'stagecraft-local',
} as const;

export const LOCAL_KEY_PREFIX = 'stagecraft-local-';

/** The access key the handlers of `env` sign with locally; the SQS, SNS and Lambda endpoints tell environments apart by it. */
export function localAccessKey(env: string): string {
  return `${LOCAL_KEY_PREFIX}${env}`;
}

export async function startTableServer(options: TableServerOptions): Promise<TableServer> {
  mkdirSync(options.dir, { recursive: true });
  // Loaded on demand: apps without tables (and every other command) never pay for it.
  const { default: dynalite } = await import('dynalite');
  const server = dynalite({ path: options.dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  try {
    await createTables(endpoint, options);
  } catch (error) {
    await stop();
    throw new StagecraftError(
      'PROVIDER_FAILED',
      `cannot create the tables of ${options.environments.join(', ')}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return { endpoint, stop };
}

/**
 * Creates the missing tables with DynamoDB's JSON protocol directly: the local server does not
 * check signatures (only that one is present), and this keeps the AWS SDK out of `up`'s start.
 */
async function createTables(endpoint: string, options: TableServerOptions): Promise<void> {
  const entries = Object.entries(options.tables);
  if (entries.length === 0) return;
  const call = async (operation: string, body: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${operation}`,
        'x-amz-date': new Date().toISOString().replace(/[-:]|\.\d{3}/g, ''),
        authorization: `AWS4-HMAC-SHA256 Credential=${LOCAL_CREDENTIALS.AWS_ACCESS_KEY_ID}/20200101/${options.region}/dynamodb/aws4_request, SignedHeaders=host, Signature=local`,
      },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${operation}: ${String(answer['message'] ?? answer['__type'])}`);
    return answer;
  };
  const existing = new Set((await call('ListTables', {}))['TableNames'] as string[]);
  const wanted = entries.flatMap(([table, definition]) =>
    options.environments.map((env) => [resourceName(options, table, env), definition] as const),
  );
  for (const [name, definition] of wanted) {
    if (existing.has(name)) continue;
    const keys = [
      { ...definition.partitionKey, role: 'HASH' },
      ...(definition.sortKey ? [{ ...definition.sortKey, role: 'RANGE' }] : []),
    ];
    await call('CreateTable', {
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: keys.map((key) => ({ AttributeName: key.name, AttributeType: key.type })),
      KeySchema: keys.map((key) => ({ AttributeName: key.name, KeyType: key.role })),
    });
  }
}
