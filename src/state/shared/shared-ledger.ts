/**
 * The ledger and the releases in the shared state table. Every machine keeps its own SQLite
 * state (the local ledger is written in the same transaction as each change, DESIGN §5
 * invariant 4) and copies what it committed to the table: after each change the aws provider
 * makes, and when a command ends. A copy is idempotent — a record's key is made of its own
 * time, origin and sequence number — so copying again after a crash writes nothing new.
 *
 * Reading the shared ledger gives every machine's records in one order (by time), which is what
 * `history` shows when the app's state backend is dynamodb.
 */
import {
  BatchWriteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { isConditionFailed, providerError } from '../../aws-errors.js';
import type { LedgerEntry, LedgerQuery, Release, StateStore } from '../index.js';
import { N, number, S, text, type Item, type StateTable } from './state-table.js';

/** BatchWriteItem takes at most 25 requests (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html). */
const BATCH = 25;

/** The records that say how many CloudWatch alarms Stagecraft keeps for the app (`detail.remaining`). */
const ALARM_KINDS = new Set(['alarms.kept', 'alarms.deleted']);

export class SharedLedger {
  constructor(
    private readonly table: StateTable,
    private readonly app: string,
  ) {}

  /** Copies the ledger records and releases this database committed since the last copy. */
  async sync(store: StateStore): Promise<{ entries: number; releases: number }> {
    const origin =
      store.meta.get('shared.origin') ??
      (() => {
        const fresh = randomUUID();
        store.meta.set('shared.origin', fresh);
        return fresh;
      })();
    const ledgerKey = `shared.${this.table.name}.ledger`;
    const releasesKey = `shared.${this.table.name}.releases`;
    const entries = store.ledger.list({ afterSeq: Number(store.meta.get(ledgerKey) ?? 0) });
    const sortKey = (entry: LedgerEntry) => `ledger#${entry.at}#${origin}#${String(entry.seq).padStart(10, '0')}`;
    for (let start = 0; start < entries.length; start += BATCH) {
      const batch = entries.slice(start, start + BATCH);
      const alarms = batch.findLast(
        (entry) => ALARM_KINDS.has(entry.kind) && typeof entry.detail?.['remaining'] === 'number',
      );
      await this.write(
        batch.map((entry) => ({
          pk: S(this.app),
          sk: S(sortKey(entry)),
          origin: S(origin),
          seq: N(entry.seq),
          entry: S(JSON.stringify(entry)),
        })),
      );
      if (alarms) await this.keepAlarmCount(alarms.detail?.['remaining'] as number, sortKey(alarms));
      store.meta.set(ledgerKey, String(batch[batch.length - 1]?.seq ?? 0));
    }
    const shippedReleases = Number(store.meta.get(releasesKey) ?? 0);
    const releases = store.releases.list().filter((release) => release.seq > shippedReleases);
    for (let start = 0; start < releases.length; start += BATCH) {
      const batch = releases.slice(start, start + BATCH);
      // Keyed by digest: two machines number their releases independently, but the same inputs are the same release.
      await this.write(
        batch.map((release) => ({
          pk: S(this.app),
          sk: S(`release#${release.digest}`),
          id: S(release.id),
          origin: S(origin),
          release: S(JSON.stringify(release)),
        })),
      );
      store.meta.set(releasesKey, String(batch[batch.length - 1]?.seq ?? 0));
    }
    return { entries: entries.length, releases: releases.length };
  }

  /** Every release any machine copied to the table, as that machine recorded it. */
  async releases(): Promise<Release[]> {
    return (await this.queryAll('release#', 'releases')).map((item) => JSON.parse(text(item, 'release')) as Release);
  }

  /** The shared ledger, oldest first, numbered in that order. */
  async list(query: LedgerQuery = {}): Promise<LedgerEntry[]> {
    const entries = (await this.queryAll('ledger#', 'ledger')).map(
      (item) => JSON.parse(text(item, 'entry')) as LedgerEntry,
    );
    const numbered = entries.map((entry, index) => ({ ...entry, seq: index + 1 }));
    const matching = numbered.filter(
      (entry) =>
        (query.environment === undefined || entry.environment === query.environment) &&
        (query.function === undefined || entry.function === query.function) &&
        (query.kind === undefined || entry.kind === query.kind) &&
        (query.afterSeq === undefined || entry.seq > query.afterSeq),
    );
    return query.limit === undefined ? matching : matching.slice(-query.limit);
  }

  /**
   * How many CloudWatch alarms Stagecraft keeps for the app, as the newest alarms record of any
   * machine said; undefined when no machine copied one. A CI runner starts with an empty ledger of
   * its own, so only this tells it that alarms the manifest no longer asks for are still there.
   */
  async alarmsRemaining(): Promise<number | undefined> {
    const read = await this.table.call(`cannot read the alarms of ${this.app} from ${this.table.name}`, () =>
      this.table.dynamodb.send(
        new GetItemCommand({ TableName: this.table.name, Key: alarmsKey(this.app), ConsistentRead: true }),
      ),
    );
    return read.Item ? number(read.Item, 'remaining') : undefined;
  }

  /** The key of the newest ledger record any machine copied: one item read, for the dashboard's change feed. */
  async latest(): Promise<string> {
    const page = await this.table.call(`cannot read the ledger of ${this.app} from ${this.table.name}`, () =>
      this.table.dynamodb.send(
        new QueryCommand({
          TableName: this.table.name,
          KeyConditionExpression: 'pk = :app AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':app': S(this.app), ':prefix': S('ledger#') },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      ),
    );
    return page.Items?.[0] ? text(page.Items[0], 'sk') : '';
  }

  /** Keeps `remaining` unless a record newer than `said` (a ledger sort key: by time) is there already. */
  private async keepAlarmCount(remaining: number, said: string): Promise<void> {
    try {
      await this.table.call(`cannot copy the alarms of ${this.app} to ${this.table.name}`, () =>
        this.table.dynamodb.send(
          new PutItemCommand({
            TableName: this.table.name,
            Item: { ...alarmsKey(this.app), remaining: N(remaining), said: S(said) },
            ConditionExpression: 'attribute_not_exists(pk) OR #said < :said',
            ExpressionAttributeNames: { '#said': 'said' },
            ExpressionAttributeValues: { ':said': S(said) },
          }),
        ),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }

  /** Every item of this app whose sort key starts with `prefix`, in key order, page after page. */
  private async queryAll(prefix: string, what: string): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const page = await this.table.call(`cannot read the ${what} of ${this.app} from ${this.table.name}`, () =>
        this.table.dynamodb.send(
          new QueryCommand({
            TableName: this.table.name,
            KeyConditionExpression: 'pk = :app AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':app': S(this.app), ':prefix': S(prefix) },
            ExclusiveStartKey: start,
            ConsistentRead: true,
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  private async write(items: Item[]): Promise<void> {
    let requests: WriteRequest[] = items.map((item) => ({ PutRequest: { Item: item } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      const written = await this.table.call(`cannot copy the ledger of ${this.app} to ${this.table.name}`, () =>
        this.table.dynamodb.send(
          new BatchWriteItemCommand({
            RequestItems: { [this.table.name]: requests },
          }),
        ),
      );
      requests = written.UnprocessedItems?.[this.table.name] ?? [];
      if (requests.length > 0) {
        if (attempt >= 8)
          throw providerError(
            new Error(`${requests.length} item(s) left unprocessed`),
            `cannot copy the ledger of ${this.app} to ${this.table.name}`,
          );
        await sleep(50 * 2 ** attempt);
      }
    }
  }
}

function alarmsKey(app: string): Item {
  return { pk: S(app), sk: S('alarms') };
}
