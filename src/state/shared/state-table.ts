/**
 * The shared state table (`state: { backend: dynamodb, table: … }`): one DynamoDB table for any
 * number of apps, so that every CI runner and every person's machine sees one promotion lock,
 * one ledger and one list of releases. Items of an app share its partition key:
 *
 *   pk = <app>   sk = lock                               the promotion lock
 *   pk = <app>   sk = ledger#<at>#<origin>#<seq>         one ledger record
 *   pk = <app>   sk = release#<digest>                   one release
 *   pk = <app>   sk = alarms                             how many alarms Stagecraft keeps, by the newest record
 *
 * The table is created on first use (on demand capacity) when it does not exist.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorName, providerError } from '../../aws-errors.js';
import { StagecraftError } from '../../errors.js';

export type Item = Record<string, AttributeValue>;

export class StateTable {
  private created: Promise<void> | undefined;

  constructor(
    readonly dynamodb: DynamoDBClient,
    readonly name: string,
    private readonly options: { pollMs?: number; progress?: (message: string) => void } = {},
  ) {}

  /** Runs `operation`; when the table does not exist yet, creates it and runs it once more. */
  async call<T>(doing: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (!isTableMissing(error)) throw passOn(error, doing);
    }
    await this.create().catch((error: unknown) => {
      throw providerError(error, `cannot create the state table ${this.name}`);
    });
    try {
      return await operation();
    } catch (error) {
      throw passOn(error, doing);
    }
  }

  private create(): Promise<void> {
    this.created ??= (async () => {
      this.options.progress?.(`creating the state table ${this.name} (DynamoDB, on demand)`);
      try {
        await this.dynamodb.send(
          new CreateTableCommand({
            TableName: this.name,
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: [
              { AttributeName: 'pk', AttributeType: 'S' },
              { AttributeName: 'sk', AttributeType: 'S' },
            ],
            KeySchema: [
              { AttributeName: 'pk', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
          }),
        );
      } catch (error) {
        // Another process created it first.
        if (errorName(error) !== 'ResourceInUseException') throw error;
      }
      for (let delay = this.options.pollMs ?? 500; ; delay = Math.min(delay * 2, 5000)) {
        const table = await this.dynamodb.send(new DescribeTableCommand({ TableName: this.name }));
        if (table.Table?.TableStatus === 'ACTIVE') return;
        await sleep(delay);
      }
    })();
    return this.created;
  }
}

/** A failed condition is an answer the caller handles; anything else becomes a StagecraftError. */
function passOn(error: unknown, doing: string): unknown {
  if (error instanceof StagecraftError || errorName(error) === 'ConditionalCheckFailedException') return error;
  return providerError(error, doing);
}

function isTableMissing(error: unknown): boolean {
  return errorName(error) === 'ResourceNotFoundException';
}

export const S = (value: string): AttributeValue => ({ S: value });
export const N = (value: number): AttributeValue => ({ N: String(value) });

export function text(item: Item | undefined, key: string): string {
  return item?.[key]?.S ?? '';
}

export function number(item: Item | undefined, key: string): number {
  return Number(item?.[key]?.N ?? 'NaN');
}
