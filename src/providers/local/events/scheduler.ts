/**
 * Scheduled events: for every `schedule` event of a function, an EventBridge rule that fires on
 * its `rate(…)` or `cron(…)` and delivers the scheduled-event document, or the constant `input`
 * instead when the manifest gives one (EventBridge's `Input`). Like EventBridge, a fire missed
 * while nothing ran (or while the clock jumped) is not caught up: the rule fires once and goes on
 * from now. Every expression is compiled at construction, so an unsupported one fails `up` at once.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
 */
import type { ScheduledEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import type { Schedule } from '../../../manifest/index.js';
import { ruleArn, type Where } from './arns.js';
import { systemClock, MAX_TIMER_MS, type Clock, type Timer } from './clock.js';
import { compileSchedule, nextFireTime, type CompiledSchedule } from './cron.js';

export interface ScheduleDef {
  /** The EventBridge rule's name; its ARN is the event's only resource. */
  rule: string;
  schedule: Schedule;
  /** Sent as the event instead of the scheduled-event document, when set. */
  input?: unknown;
  /** Delivers one event (JSON text): an asynchronous invocation of the function's `live` alias. */
  invoke: (payload: string) => unknown;
}

export interface SchedulerOptions extends Where {
  schedules: readonly ScheduleDef[];
  clock?: Clock;
  onFire?: (fire: { rule: string; scheduledAt: number; payload: string }) => void;
  onError?: (error: unknown) => void;
}

interface Armed {
  def: ScheduleDef;
  compiled: CompiledSchedule;
  anchor: number;
  next: number | undefined;
  timer: Timer | undefined;
}

export function scheduledEvent(
  where: Where,
  rule: string,
  scheduledAt: number,
  id: string = randomUUID(),
): ScheduledEvent<Record<string, never>> {
  return {
    version: '0',
    id,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: where.account,
    // EventBridge writes the scheduled time to the second.
    time: new Date(scheduledAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: where.region,
    resources: [ruleArn(where, rule)],
    detail: {},
  };
}

export class Scheduler {
  private readonly clock: Clock;
  private readonly armed: Armed[];
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;

  constructor(private readonly options: SchedulerOptions) {
    this.clock = options.clock ?? systemClock;
    const now = this.clock.now();
    this.armed = options.schedules.map((def) => ({
      def,
      compiled: compileSchedule(def.schedule, now),
      anchor: now,
      next: undefined,
      timer: undefined,
    }));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const now = this.clock.now();
    for (const entry of this.armed) {
      entry.anchor = now;
      entry.next = nextFireTime(entry.compiled, now, now);
      this.arm(entry);
    }
  }

  /** Cancels every timer and waits for deliveries in flight. */
  async stop(): Promise<void> {
    this.running = false;
    for (const entry of this.armed) entry.timer?.cancel();
    await Promise.all(this.inFlight);
  }

  /** When each rule fires next (ms since the epoch), for the dashboard. */
  upcoming(): { rule: string; expression: string; next: number | undefined }[] {
    return this.armed.map((entry) => ({
      rule: entry.def.rule,
      expression: entry.compiled.expression,
      next: entry.next,
    }));
  }

  private arm(entry: Armed): void {
    entry.timer = undefined;
    if (!this.running || entry.next === undefined) return;
    // Timers top out at ~24.8 days; a later fire wakes up early and re-arms.
    entry.timer = this.clock.setTimer(() => this.wake(entry), Math.min(entry.next - this.clock.now(), MAX_TIMER_MS));
  }

  private wake(entry: Armed): void {
    if (!this.running || entry.next === undefined) return;
    const now = this.clock.now();
    if (now < entry.next) {
      this.arm(entry);
      return;
    }
    this.fire(entry, entry.next);
    entry.next = nextFireTime(entry.compiled, now, entry.anchor);
    this.arm(entry);
  }

  private fire(entry: Armed, scheduledAt: number): void {
    const { def } = entry;
    const payload =
      def.input !== undefined
        ? JSON.stringify(def.input)
        : JSON.stringify(scheduledEvent(this.options, def.rule, scheduledAt));
    const delivery = (async () => {
      try {
        this.options.onFire?.({ rule: def.rule, scheduledAt, payload });
        await def.invoke(payload);
      } catch (error) {
        this.options.onError?.(error);
      }
    })();
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }
}
