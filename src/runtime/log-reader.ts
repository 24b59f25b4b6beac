/**
 * Reading back what the file log sink wrote (format in log-sink.ts): the last lines of an
 * instance's file, and new lines as they are appended — `stagecraft logs [--follow]`.
 */
import { open, stat } from 'node:fs/promises';

export interface LogEntry {
  /** ISO time the invocation ended. */
  time: string;
  version: string;
  requestId: string;
  /** The line as the function or the platform wrote it. */
  line: string;
}

/** One stored line back into its fields; undefined for a line that is not in the format. */
export function parseLogLine(text: string): LogEntry | undefined {
  const first = text.indexOf('\t');
  const second = first < 0 ? -1 : text.indexOf('\t', first + 1);
  const third = second < 0 ? -1 : text.indexOf('\t', second + 1);
  if (third < 0) return undefined;
  return {
    time: text.slice(0, first),
    version: text.slice(first + 1, second),
    requestId: text.slice(second + 1, third),
    line: text.slice(third + 1),
  };
}

const CHUNK_BYTES = 64 * 1024;

/**
 * The last `limit` lines of `file`, oldest first, reading backwards from its end so a large file
 * costs no more than its tail. `end` is where the file ended: the place to follow from. A file
 * that does not exist yet has no lines.
 */
export async function readLogTail(file: string, limit: number): Promise<{ entries: LogEntry[]; end: number }> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], end: 0 };
    throw error;
  }
  try {
    const { size: end } = await handle.stat();
    let position = end;
    let tail = Buffer.alloc(0);
    let newlines = 0;
    // Enough lines once there is one more newline than wanted (the text before it is cut off).
    while (position > 0 && newlines <= limit) {
      const size = Math.min(CHUNK_BYTES, position);
      position -= size;
      const chunk = Buffer.alloc(size);
      await handle.read(chunk, 0, size, position);
      for (const byte of chunk) if (byte === 0x0a) newlines += 1;
      tail = Buffer.concat([chunk, tail]);
    }
    const lines = tail.toString('utf8').split('\n');
    lines.pop(); // after the final newline (or a line still being written)
    if (position > 0) lines.shift(); // cut off at its start
    return { entries: toEntries(lines.slice(Math.max(0, lines.length - limit))), end: end - partialBytes(tail) };
  } finally {
    await handle.close();
  }
}

/**
 * Calls `onEntries` with every complete line appended to `file` after byte `from`, polling every
 * `pollMs`, until `signal` aborts. A file cut shorter (removed, truncated) is read again from its
 * start; one that does not exist yet is waited for.
 */
export async function followLog(
  file: string,
  from: number,
  onEntries: (entries: LogEntry[]) => void,
  signal: AbortSignal,
  pollMs = 250,
): Promise<void> {
  let offset = from;
  let partial = '';
  while (!signal.aborted) {
    const size = await stat(file).then(
      (info) => info.size,
      () => 0,
    );
    if (size < offset) {
      offset = 0;
      partial = '';
    }
    if (size > offset) {
      const handle = await open(file, 'r');
      try {
        const chunk = Buffer.alloc(size - offset);
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, offset);
        offset += bytesRead;
        const lines = (partial + chunk.toString('utf8', 0, bytesRead)).split('\n');
        partial = lines.pop() ?? '';
        if (lines.length > 0) onEntries(toEntries(lines));
      } finally {
        await handle.close();
      }
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, pollMs);
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
  }
}

function toEntries(lines: string[]): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const line of lines) {
    const entry = parseLogLine(line);
    if (entry !== undefined) entries.push(entry);
  }
  return entries;
}

/** Bytes after the last newline: a line still being appended, to be read when it is whole. */
function partialBytes(tail: Buffer): number {
  const last = tail.lastIndexOf(0x0a);
  return tail.length - (last + 1);
}
