/**
 * Collects the outcome of every invocation `up` makes through `live` and writes them to the state
 * database in one transaction a few times a second, so that a shift's alarms (another process)
 * see the new version's traffic without a write per request.
 */
import type { InvokeOutcome } from '../../runtime/index.js';
import type { MetricSample, StateStore } from '../../state/index.js';

/** How long buckets are kept: longer than any shift reads back (its alarms' windows). */
const KEEP_MS = 24 * 60 * 60_000;
const PRUNE_EVERY_MS = 60_000;

export class MetricsRecorder {
  private pending: MetricSample[] = [];
  private prunedAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: StateStore,
    private readonly flushMs = 250,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => this.flush(), this.flushMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }

  record(instance: string, alias: string, version: number, outcome: InvokeOutcome): void {
    const throttled = !outcome.ok && outcome.cause === 'throttled';
    this.pending.push({
      instance,
      alias,
      version,
      at: this.now(),
      error: !outcome.ok && !throttled,
      throttled,
      durationMs: outcome.durationMs,
    });
  }

  flush(): void {
    const now = this.now();
    if (now - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = now;
      try {
        this.store.transaction(() => this.store.metrics.prune(now - KEEP_MS));
      } catch {
        // A busy database: pruning waits for the next minute.
      }
    }
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      this.store.transaction(() => this.store.metrics.add(batch));
    } catch {
      // A busy database: keep the samples for the next flush rather than lose them.
      this.pending = batch.concat(this.pending);
    }
  }
}
