/**
 * Lambda's CloudWatch log events as `stagecraft logs` entries (`{ time, version, requestId, line }`,
 * the shape the local file sink's lines are read back into).
 *
 * Lambda writes one log stream per execution environment, named `YYYY/MM/DD/[<version>]<id>`, so
 * the stream tells the version. An environment runs one request at a time, so a line that does
 * not name its request (a `print` of a custom runtime) belongs to the request whose START line
 * came last in its stream.
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-view.html
 */
import type { LogEntry } from '../../runtime/index.js';

/** One event of FilterLogEvents, with the fields Lambda always fills. */
export interface LambdaLogEvent {
  eventId: string;
  /** ms since the epoch. */
  timestamp: number;
  logStreamName: string;
  message: string;
}

const STREAM_VERSION = /^\d{4}\/\d{2}\/\d{2}\/\[([^\]]*)\]/;

/** `2025/01/31/[3]0123abcd…` → `3`; `$LATEST` for the unpublished code; '' for a stream Lambda did not name. */
export function streamVersion(stream: string): string {
  return STREAM_VERSION.exec(stream)?.[1] ?? '';
}

/** Platform lines: `START RequestId: <id> Version: 3`, `END RequestId: <id>`, `REPORT RequestId: <id>\tDuration: …`, `RequestId: <id> Error: …`. */
const PLATFORM_LINE = /^(?:[A-Z_]+ )?RequestId: (\S+)/;
/** The Node runtime's `<time>\t<id>\t<LEVEL>\t…` and Python's `[LEVEL]\t<time>\t<id>\t…`. */
const RUNTIME_LINE = /^(?:[^\t]*\t){1,2}([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:\t|$)/i;
/** Lambda's JSON log format names it in every record (`"requestId"`, or `record.requestId` on platform records). */
const JSON_LINE = /"requestId"\s*:\s*"([^"]+)"/;

/** The request a line names itself, if it does. */
export function lineRequestId(line: string): string | undefined {
  return (PLATFORM_LINE.exec(line) ??
    RUNTIME_LINE.exec(line) ??
    (line.startsWith('{') ? JSON_LINE.exec(line) : null))?.[1];
}

const STARTS = /^START RequestId: |^\{.*"type"\s*:\s*"platform\.start"/;
const ENDS = /^END RequestId: |^\{.*"type"\s*:\s*"platform\.runtimeDone"/;

/**
 * Turns events into entries, remembering per stream which request is running, so that it must
 * see a stream's events in time order; one instance serves a tail and then its follow.
 */
export class LambdaLogLines {
  /** The request each stream runs now, from its last START line until its END line. */
  private readonly running = new Map<string, string>();

  entries(events: readonly LambdaLogEvent[]): LogEntry[] {
    return events.map((event) => this.entry(event));
  }

  private entry({ timestamp, logStreamName: stream, message }: LambdaLogEvent): LogEntry {
    // Lambda ends every message with a newline; one inside a message becomes `\r`, as the local
    // sink writes it, so that an entry is one line of text.
    const line = message.replace(/\r?\n$/, '').replaceAll('\n', '\r');
    const own = lineRequestId(line);
    if (own !== undefined && STARTS.test(line)) this.running.set(stream, own);
    const requestId = own ?? this.running.get(stream) ?? '';
    if (ENDS.test(line)) this.running.delete(stream);
    return { time: new Date(timestamp).toISOString(), version: streamVersion(stream), requestId, line };
  }
}
