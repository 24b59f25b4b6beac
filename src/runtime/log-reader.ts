/**
 * Reading back what the file log sink wrote (format in log-sink.ts): the last lines of an
 * instance's file, and new lines as they are appended — `stagecraft logs [--follow]`.
 */
import { open, stat } from 'node:fs/promises';
import { rotatedLogFile } from './log-sink.js';

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
 * The last `limit` lines of an instance's log, oldest first, reading backwards from the end of its
 * file (and of the file rotated before it, when that one is too short) so a large log costs no more
 * than its tail. A file that does not exist yet has no lines.
 */
export async function readLogTail(file: string, limit: number): Promise<{ entries: LogEntry[] } & LogPosition> {
  const latest = await tailLines(file, limit);
  const older =
    latest.whole && latest.lines.length < limit
      ? await tailLines(rotatedLogFile(file), limit - latest.lines.length)
      : undefined;
  const lines = older === undefined ? latest.lines : [...older.lines, ...latest.lines];
  return { entries: toEntries(lines), end: latest.end, ...(latest.inode === undefined ? {} : { inode: latest.inode }) };
}

/** The last `limit` complete lines of one file; `whole` when the file has no more before them. */
async function tailLines(
  file: string,
  limit: number,
): Promise<{ lines: string[]; end: number; inode?: number; whole: boolean }> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], end: 0, whole: true };
    throw error;
  }
  try {
    const { size: end, ino: inode } = await handle.stat();
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
    const kept = lines.slice(Math.max(0, lines.length - limit));
    return {
      lines: kept,
      end: end - partialBytes(tail),
      inode,
      whole: position === 0 && kept.length === lines.length,
    };
  } finally {
    await handle.close();
  }
}

/** Where a reader of a log file stopped: the byte after its last whole line, in which file. */
export interface LogPosition {
  end: number;
  /** The file's inode; without it, a rotation before the first poll goes unnoticed. */
  inode?: number;
}

/**
 * Calls `onEntries` with every complete line appended to `file` after `from`, polling every
 * `pollMs`, until `signal` aborts. When the sink rotates the file, the rest of the rotated one is
 * read first; a file cut shorter (removed, truncated) is read again from its start; one that does
 * not exist yet is waited for.
 */
export async function followLog(
  file: string,
  from: LogPosition,
  onEntries: (entries: LogEntry[]) => void,
  signal: AbortSignal,
  pollMs = 250,
): Promise<void> {
  let offset = from.end;
  let partial = '';
  /** The inode of the file read so far: once the name holds another, the one read may be the rotated file. */
  let inode = from.inode;
  const readOn = async (path: string, size: number): Promise<void> => {
    const handle = await open(path, 'r');
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
  };
  /** The rest of the file read so far, when the sink has moved it aside. */
  const readRotated = async (): Promise<void> => {
    const rotated = await stat(rotatedLogFile(file)).catch(() => undefined);
    if (inode !== undefined && rotated?.ino === inode && rotated.size > offset)
      await readOn(rotatedLogFile(file), rotated.size);
  };
  while (!signal.aborted) {
    const info = await stat(file).catch(() => undefined);
    // No file (not yet, or between the sink's rename and its next append): wait, remembering where
    // we were, and read what the moved file still held.
    if (info === undefined) await readRotated();
    else {
      if (inode !== undefined && info.ino !== inode) {
        await readRotated();
        offset = 0;
        partial = '';
      } else if (info.size < offset) {
        offset = 0;
        partial = '';
      }
      inode = info.ino;
      if (info.size > offset) await readOn(file, info.size);
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
