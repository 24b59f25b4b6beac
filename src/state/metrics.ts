/**
 * Per-version invocation metrics of the local runtime, in 10-second buckets as CloudWatch keeps
 * Lambda's (`Invocations`, `Errors`, `Throttles`, `Duration`): counts and a duration histogram
 * per instance, alias and version. Written in batches by `up`, read by a traffic shift's alarms.
 * Metrics are data, not a change of what runs where: none of it goes to the ledger.
 */
import type { Database } from 'better-sqlite3';
import { StatementCache } from './statements.js';

export const METRIC_BUCKET_MS = 10_000;

/** Upper bounds (ms) of the duration histogram's buckets; a last one holds everything slower. */
export const DURATION_BOUNDS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 300, 500, 800, 1_000, 2_000, 5_000, 10_000, 30_000,
] as const;

export interface MetricSample {
  instance: string;
  alias: string;
  version: number;
  /** When it ended, ms since the epoch. */
  at: number;
  error: boolean;
  throttled: boolean;
  durationMs: number;
}

export interface MetricSummary {
  invocations: number;
  errors: number;
  throttles: number;
  /** Upper bound of the histogram bucket holding the 99th percentile; null without invocations. */
  p99Ms: number | null;
  /** The buckets read: from the start of the first to the end of the last. */
  fromMs: number;
  toMs: number;
}

interface Row {
  invocations: number;
  errors: number;
  throttles: number;
  durations: string;
}

export class MetricsRepo {
  private readonly sql: StatementCache;

  constructor(db: Database) {
    this.sql = new StatementCache(db);
  }

  /** Adds samples to their buckets (call inside a transaction for a batch). */
  add(samples: readonly MetricSample[]): void {
    const merged = new Map<
      string,
      {
        key: [string, string, number, number];
        row: { invocations: number; errors: number; throttles: number; durations: number[] };
      }
    >();
    for (const sample of samples) {
      const bucket = Math.floor(sample.at / METRIC_BUCKET_MS) * METRIC_BUCKET_MS;
      const id = `${sample.instance}\0${sample.alias}\0${sample.version}\0${bucket}`;
      let entry = merged.get(id);
      if (!entry) {
        entry = {
          key: [sample.instance, sample.alias, sample.version, bucket],
          row: {
            invocations: 0,
            errors: 0,
            throttles: 0,
            durations: new Array<number>(DURATION_BOUNDS_MS.length + 1).fill(0),
          },
        };
        merged.set(id, entry);
      }
      entry.row.invocations++;
      if (sample.error) entry.row.errors++;
      if (sample.throttled) entry.row.throttles++;
      else entry.row.durations[durationBucket(sample.durationMs)]!++;
    }
    const read = this.sql.get(
      'SELECT invocations, errors, throttles, durations FROM metrics WHERE instance = ? AND alias = ? AND version = ? AND bucket = ?',
    );
    const write = this.sql
      .get(`INSERT INTO metrics (instance, alias, version, bucket, invocations, errors, throttles, durations) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (instance, alias, version, bucket) DO UPDATE SET invocations = excluded.invocations, errors = excluded.errors, throttles = excluded.throttles, durations = excluded.durations`);
    for (const { key, row } of merged.values()) {
      const old = read.get(...key) as Row | undefined;
      const durations = old ? addCounts(JSON.parse(old.durations) as number[], row.durations) : row.durations;
      write.run(
        ...key,
        row.invocations + (old?.invocations ?? 0),
        row.errors + (old?.errors ?? 0),
        row.throttles + (old?.throttles ?? 0),
        JSON.stringify(durations),
      );
    }
  }

  /** The sum of the buckets of `instance:alias` version `version` that overlap [sinceMs, untilMs]. */
  summary(query: {
    instance: string;
    alias: string;
    version: number;
    sinceMs: number;
    untilMs: number;
  }): MetricSummary {
    const from = Math.floor(query.sinceMs / METRIC_BUCKET_MS) * METRIC_BUCKET_MS;
    const rows = this.sql
      .get(
        'SELECT invocations, errors, throttles, durations FROM metrics WHERE instance = ? AND alias = ? AND version = ? AND bucket >= ? AND bucket <= ?',
      )
      .all(query.instance, query.alias, query.version, from, query.untilMs) as Row[];
    let durations = new Array<number>(DURATION_BOUNDS_MS.length + 1).fill(0);
    const total = { invocations: 0, errors: 0, throttles: 0 };
    for (const row of rows) {
      total.invocations += row.invocations;
      total.errors += row.errors;
      total.throttles += row.throttles;
      durations = addCounts(durations, JSON.parse(row.durations) as number[]);
    }
    return {
      ...total,
      p99Ms: percentile(durations, 0.99),
      fromMs: from,
      toMs: Math.floor(query.untilMs / METRIC_BUCKET_MS) * METRIC_BUCKET_MS + METRIC_BUCKET_MS,
    };
  }

  /** Drops buckets older than `beforeMs` (metrics are kept for the shifts that read them, not forever). */
  prune(beforeMs: number): void {
    this.sql.get('DELETE FROM metrics WHERE bucket < ?').run(beforeMs);
  }
}

function durationBucket(ms: number): number {
  const index = DURATION_BOUNDS_MS.findIndex((bound) => ms <= bound);
  return index === -1 ? DURATION_BOUNDS_MS.length : index;
}

function addCounts(a: number[], b: number[]): number[] {
  return a.map((value, index) => value + (b[index] ?? 0));
}

/** The upper bound of the bucket holding the `q` quantile (the last bucket: its lower bound, as "more than"). */
function percentile(counts: number[], q: number): number | null {
  const total = counts.reduce((sum, value) => sum + value, 0);
  if (total === 0) return null;
  const rank = Math.ceil(total * q);
  let seen = 0;
  for (const [index, value] of counts.entries()) {
    seen += value;
    if (seen >= rank) return DURATION_BOUNDS_MS[index] ?? DURATION_BOUNDS_MS[DURATION_BOUNDS_MS.length - 1]!;
  }
  return null;
}
