/**
 * `stagecraft logs` on the aws provider: the CloudWatch Logs group Lambda writes for a function,
 * `/aws/lambda/<instance>`, read with FilterLogEvents across all its streams (one per execution
 * environment, every version).
 *
 * FilterLogEvents answers oldest first and has no "newest N", so the tail reads windows backwards
 * from now — one minute, then each 8 times longer — until it has N events or has reached the
 * oldest event the group can hold: a busy function's tail pages through one minute of events, a
 * quiet one's costs a call per window (nine reach back a year). `follow` polls from the newest
 * event it has seen. A group that does not exist is a function that has not logged yet: Lambda
 * creates it on the first line.
 */
import {
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
  type CloudWatchLogsClient,
  type FilteredLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogEntry } from '../../runtime/index.js';
import type { LogTail } from '../provider.js';
import { isNotFound, providerError } from '../../aws-errors.js';
import type { AwsClients } from './clients.js';
import { LambdaLogLines, type LambdaLogEvent } from './lambda-log-lines.js';

const FIRST_WINDOW_MS = 60_000;
const WIDENING = 8;
/**
 * PutLogEvents refuses events more than 14 days older than the call, so no event of a group is
 * older than the group's creation less that: where the tail stops looking.
 * https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html
 */
const OLDEST_EVENT_MS = 14 * 24 * 60 * 60_000;
const FOLLOW_POLL_MS = 1_000;
/**
 * Each poll of `follow` looks this far behind the newest event it saw: CloudWatch Logs may make
 * an event searchable seconds after one with a later timestamp, and a poll from the newest
 * timestamp alone would skip it for good. Events seen already are told apart by their id.
 */
const LATE_MS = 10_000;

export function lambdaLogGroup(instance: string): string {
  return `/aws/lambda/${instance}`;
}

export async function readLambdaLogs(
  clients: AwsClients,
  instance: string,
  limit: number,
  now: () => Date = () => new Date(),
): Promise<LogTail> {
  const group = lambdaLogGroup(instance);
  const reader = new GroupReader(await clients.logs(), group);
  const lines = new LambdaLogLines();
  const readAt = now().getTime();
  const created = await reader.creationTime();
  let events: LambdaLogEvent[] = [];
  // Where reading began; without a group, `follow` starts a little before now all the same, as
  // this machine's clock and the one stamping the events may disagree by a few seconds.
  let from = readAt - LATE_MS;
  if (created !== undefined) {
    const oldest = created - OLDEST_EVENT_MS;
    let span = FIRST_WINDOW_MS;
    let until: number | undefined;
    for (;;) {
      from = Math.max(readAt - span, oldest);
      events = [...(await reader.events(from, until)), ...events];
      if (events.length >= limit || from <= oldest) break;
      until = from - 1;
      span *= WIDENING;
    }
  }
  // Every event is turned into an entry, not only the last `limit`: a line's request may be
  // named only by a START line before them.
  const entries = lines.entries(events).slice(-limit);
  const newest = events.at(-1)?.timestamp ?? readAt;
  const cursor = new FollowCursor(Math.max(newest - LATE_MS, from), events);
  return {
    entries,
    source: { logGroup: group },
    empty: events.length === 0,
    follow: (onEntries, signal) => follow(reader, lines, cursor, onEntries, signal),
  };
}

async function follow(
  reader: GroupReader,
  lines: LambdaLogLines,
  cursor: FollowCursor,
  onEntries: (entries: LogEntry[]) => void,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    await sleep(FOLLOW_POLL_MS, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) return;
    let events: LambdaLogEvent[];
    try {
      events = await reader.events(cursor.since, undefined, signal);
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    const fresh = cursor.take(events);
    if (fresh.length > 0) onEntries(lines.entries(fresh));
  }
}

/** Where `follow` reads from, and the events it has handed out at or after that time. */
class FollowCursor {
  private readonly seen = new Map<string, number>();

  constructor(
    public since: number,
    known: readonly LambdaLogEvent[],
  ) {
    this.remember(known);
  }

  /** The events not seen before, and moves on past them. */
  take(events: readonly LambdaLogEvent[]): LambdaLogEvent[] {
    const fresh = events.filter((event) => !this.seen.has(event.eventId));
    const newest = fresh.reduce((max, event) => Math.max(max, event.timestamp), 0);
    this.since = Math.max(this.since, newest - LATE_MS);
    this.remember(fresh);
    // An id older than `since` cannot come back: forget it, so a long follow stays small.
    for (const [id, timestamp] of this.seen) if (timestamp < this.since) this.seen.delete(id);
    return fresh;
  }

  private remember(events: readonly LambdaLogEvent[]): void {
    for (const event of events) if (event.timestamp >= this.since) this.seen.set(event.eventId, event.timestamp);
  }
}

class GroupReader {
  constructor(
    private readonly logs: CloudWatchLogsClient,
    private readonly group: string,
  ) {}

  /** When the group was made; undefined when it does not exist. */
  async creationTime(): Promise<number | undefined> {
    try {
      // Groups are listed by name, so the exact name comes first of those it is a prefix of.
      const page = await this.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: this.group, limit: 1 }));
      const found = page.logGroups?.find((group) => group.logGroupName === this.group);
      return found && (found.creationTime ?? 0);
    } catch (error) {
      throw providerError(error, `cannot read the log group ${this.group}`);
    }
  }

  /** The events from `from` to `until` (both included), oldest first; none when the group does not exist. */
  async events(from: number, until: number | undefined, signal?: AbortSignal): Promise<LambdaLogEvent[]> {
    const events: LambdaLogEvent[] = [];
    let nextToken: string | undefined;
    try {
      do {
        const page = await this.logs.send(
          new FilterLogEventsCommand({ logGroupName: this.group, startTime: from, endTime: until, nextToken }),
          signal ? { abortSignal: signal } : {},
        );
        for (const event of page.events ?? []) events.push(toEvent(event));
        nextToken = page.nextToken;
      } while (nextToken);
    } catch (error) {
      if (isNotFound(error)) return [];
      throw providerError(error, `cannot read the log group ${this.group}`);
    }
    // AWS interleaves the streams by time; an emulator may answer stream by stream. The sort is
    // stable, so a stream's events keep their order.
    return events.sort((a, b) => a.timestamp - b.timestamp);
  }
}

function toEvent(event: FilteredLogEvent): LambdaLogEvent {
  return {
    eventId: event.eventId ?? '',
    timestamp: event.timestamp ?? 0,
    logStreamName: event.logStreamName ?? '',
    message: event.message ?? '',
  };
}
