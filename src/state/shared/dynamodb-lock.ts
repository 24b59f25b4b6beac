/**
 * The promotion lock in the shared state table, so that two CI runners can never promote the
 * same app at once (DESIGN §5 invariant 5). Every write is conditional
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html):
 *
 * - acquire: put the lock item only if none exists;
 * - take over a dead holder: put only if the item still carries the token that was read, so of
 *   two processes taking over the same dead holder exactly one wins;
 * - heartbeat and release: only while the item still carries our own token, so a holder that
 *   was taken over can no longer touch the lock.
 *
 * A holder is dead when its process is gone on this host, or when its heartbeat is older than
 * `staleAfterMs` (a holder on another machine, or a hung process) — as the SQLite lock decides.
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { isConditionFailed, providerError } from '../../aws-errors.js';
import { StagecraftError } from '../../errors.js';
import { deadHolder, lockLost, type LockHolder, type PromotionLock } from '../index.js';
import { N, number, S, text, type Item, type StateTable } from './state-table.js';

/** The same shape as the promotion engine's lock (src/promotion/lock.ts), which this implements. */
export interface DynamoDbLockOptions {
  now?: () => Date;
  /** Whether a process of this host is alive; `kill(pid, 0)` unless a test says otherwise. */
  isAlive?: (pid: number) => boolean;
}

const key = (app: string): Item => ({ pk: S(app), sk: S('lock') });

export class DynamoDbLock implements PromotionLock {
  private readonly tokens = new Map<string, string>();

  constructor(
    private readonly table: StateTable,
    private readonly options: DynamoDbLockOptions = {},
  ) {}

  async acquire(
    app: string,
    holder: { pid: number; host: string; operation: string },
    options: { staleAfterMs: number },
  ): Promise<{ takenOverFrom?: LockHolder }> {
    const { dynamodb } = this.table;
    const token = randomUUID();
    const now = this.now().toISOString();
    const item: Item = {
      ...key(app),
      token: S(token),
      pid: N(holder.pid),
      host: S(holder.host),
      operation: S(holder.operation),
      since: S(now),
      heartbeatAt: S(now),
    };
    const put = (condition: string, seenToken?: string) =>
      this.table.call(`cannot take the lock of ${app} in ${this.table.name}`, () =>
        dynamodb.send(
          new PutItemCommand({
            TableName: this.table.name,
            Item: item,
            ConditionExpression: condition,
            ...(seenToken === undefined
              ? {}
              : {
                  ExpressionAttributeNames: { '#token': 'token' },
                  ExpressionAttributeValues: { ':seen': S(seenToken) },
                }),
          }),
        ),
      );
    try {
      await put('attribute_not_exists(pk)');
      this.tokens.set(app, token);
      return {};
    } catch (error) {
      if (!isConditionFailed(error)) throw providerError(error, `cannot take the lock of ${app} in ${this.table.name}`);
    }
    const current = await this.read(app);
    if (!current) return this.acquire(app, holder, options);
    const held = holderOf(current);
    if (
      !deadHolder(held, this.now(), {
        staleAfterMs: options.staleAfterMs,
        ...(this.options.isAlive ? { isAlive: this.options.isAlive } : {}),
      })
    )
      throw refusal(app, held);
    try {
      await put('#token = :seen', text(current, 'token')).catch((error: unknown) => {
        throw isConditionFailed(error) ? error : providerError(error, `cannot take over the lock of ${app}`);
      });
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      // Another process took it over between our read and our write: it holds the lock now.
      const winner = await this.read(app);
      throw refusal(app, winner ? holderOf(winner) : held);
    }
    this.tokens.set(app, token);
    return { takenOverFrom: held };
  }

  async heartbeat(app: string): Promise<void> {
    const token = this.tokens.get(app);
    if (!token) return;
    try {
      await this.table.dynamodb.send(
        new UpdateItemCommand({
          TableName: this.table.name,
          Key: key(app),
          UpdateExpression: 'SET heartbeatAt = :now',
          ConditionExpression: '#token = :mine',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':now': S(this.now().toISOString()), ':mine': S(token) },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw providerError(error, `cannot renew the lock of ${app}`);
      this.tokens.delete(app); // taken over: it is no longer ours to renew or release
      throw lockLost(app);
    }
  }

  async release(app: string): Promise<void> {
    const token = this.tokens.get(app);
    if (!token) return;
    this.tokens.delete(app);
    try {
      await this.table.dynamodb.send(
        new DeleteItemCommand({
          TableName: this.table.name,
          Key: key(app),
          ConditionExpression: '#token = :mine',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: { ':mine': S(token) },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw providerError(error, `cannot release the lock of ${app}`);
    }
  }

  /** The current holder, or undefined when the lock is free. */
  async holder(app: string): Promise<LockHolder | undefined> {
    const current = await this.read(app);
    return current && holderOf(current);
  }

  private async read(app: string): Promise<Item | undefined> {
    const got = await this.table.call(`cannot read the lock of ${app} in ${this.table.name}`, () =>
      this.table.dynamodb.send(
        new GetItemCommand({
          TableName: this.table.name,
          Key: key(app),
          ConsistentRead: true,
        }),
      ),
    );
    return got.Item;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }
}

function holderOf(item: Item): LockHolder {
  return {
    pid: number(item, 'pid'),
    host: text(item, 'host'),
    operation: text(item, 'operation'),
    since: text(item, 'since'),
    heartbeatAt: text(item, 'heartbeatAt'),
  };
}

function refusal(app: string, held: LockHolder): StagecraftError {
  return new StagecraftError(
    'LOCK_HELD',
    `${app} is locked by \`${held.operation}\` (pid ${held.pid} on ${held.host}, since ${held.since}, last heartbeat ${held.heartbeatAt})`,
    {
      hint: 'wait for it to finish; a lock whose process has died or stopped its heartbeat is taken over by the next command',
    },
  );
}
