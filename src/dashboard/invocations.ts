/**
 * Invocations read back from a function's log lines: the platform's REPORT line carries the
 * duration, the init duration of a cold start and the error status, as on Lambda
 * (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-logging.html#node-logging-output).
 * Per version and minute: requests, errors, p50 and p99 for the chart.
 */
import type { LogEntry } from '../runtime/index.js';

export interface Invocation {
  requestId: string;
  version: string;
  time: string;
  durationMs: number;
  coldStart: boolean;
  status: 'ok' | 'error' | 'timeout';
  lines: string[];
}

export interface VersionSeries {
  version: string;
  /** One point per minute of `minutes` (unix seconds of the minute's start). */
  requests: number[];
  errors: number[];
  p50: (number | null)[];
  p99: (number | null)[];
}

export interface Metrics {
  minutes: number[];
  versions: VersionSeries[];
}

const REPORT = /^REPORT RequestId: \S+\tDuration: ([\d.]+) ms/;

export function invocationsOf(entries: LogEntry[]): Invocation[] {
  const byRequest = new Map<string, Invocation>();
  for (const entry of entries) {
    let invocation = byRequest.get(entry.requestId);
    if (!invocation) {
      invocation = {
        requestId: entry.requestId,
        version: entry.version,
        time: entry.time,
        durationMs: NaN,
        coldStart: false,
        status: 'ok',
        lines: [],
      };
      byRequest.set(entry.requestId, invocation);
    }
    invocation.time = entry.time;
    const report = REPORT.exec(entry.line);
    if (report) {
      invocation.durationMs = Number(report[1]);
      invocation.coldStart = entry.line.includes('\tInit Duration: ');
      if (entry.line.includes('\tStatus: timeout')) invocation.status = 'timeout';
      else if (entry.line.includes('\tStatus: error')) invocation.status = 'error';
    } else if (!/^(START|END) RequestId: /.test(entry.line)) {
      invocation.lines.push(entry.line);
    }
  }
  // Only finished invocations (with their REPORT) count.
  return [...byRequest.values()].filter((invocation) => !Number.isNaN(invocation.durationMs));
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

/** Requests, errors, p50 and p99 per version over the `span` minutes up to `now`. */
export function metricsOf(invocations: Invocation[], now: Date, span = 15): Metrics {
  const last = Math.floor(now.getTime() / 60_000);
  const minutes = Array.from({ length: span }, (_, index) => (last - span + 1 + index) * 60);
  const versions = [...new Set(invocations.map((invocation) => invocation.version))].sort(
    (a, b) => Number(a) - Number(b),
  );
  return {
    minutes,
    versions: versions.map((version) => {
      const buckets = minutes.map(() => [] as Invocation[]);
      for (const invocation of invocations) {
        const index = Math.floor(Date.parse(invocation.time) / 60_000) - (last - span + 1);
        if (invocation.version === version && index >= 0 && index < span) buckets[index]?.push(invocation);
      }
      const sorted = buckets.map((bucket) => bucket.map((invocation) => invocation.durationMs).sort((a, b) => a - b));
      return {
        version,
        requests: buckets.map((bucket) => bucket.length),
        errors: buckets.map((bucket) => bucket.filter((invocation) => invocation.status !== 'ok').length),
        p50: sorted.map((durations) => percentile(durations, 50)),
        p99: sorted.map((durations) => percentile(durations, 99)),
      };
    }),
  };
}
