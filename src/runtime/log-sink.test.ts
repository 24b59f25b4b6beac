// The file log sink and its reader, on real files: format, buffering, tails and following.
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  FileLogSink,
  followLog,
  formatLogRecord,
  logDir,
  logFile,
  parseLogLine,
  readLogTail,
  rotatedLogFile,
  type LogEntry,
  type LogPosition,
} from './index.js';

const scratch = mkdtempSync(join(tmpdir(), 'stagecraft-logs-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let folders = 0;
const folder = (): string => join(scratch, `case-${(folders += 1)}`);

const record = (requestId: string, lines: string[], version = '4') => ({
  instance: 'shop-api-dev',
  version,
  requestId,
  lines,
});

describe('log line format', () => {
  it('prefixes every line with time, version and request id, tab-separated, and parses back', () => {
    const text = formatLogRecord(
      record('req-1', ['START RequestId: req-1 Version: 4', '2026-01-01T00:00:00.000Z\treq-1\tINFO\ta\tb']),
      new Date(Date.UTC(2026, 0, 2)),
    );
    expect(text).toBe(
      '2026-01-02T00:00:00.000Z\t4\treq-1\tSTART RequestId: req-1 Version: 4\n' +
        '2026-01-02T00:00:00.000Z\t4\treq-1\t2026-01-01T00:00:00.000Z\treq-1\tINFO\ta\tb\n',
    );
    expect(parseLogLine(text.split('\n')[1] ?? '')).toEqual({
      time: '2026-01-02T00:00:00.000Z',
      version: '4',
      requestId: 'req-1',
      line: '2026-01-01T00:00:00.000Z\treq-1\tINFO\ta\tb',
    });
    expect(parseLogLine('not a log line')).toBeUndefined();
  });

  it('keeps one line one line, and one file per instance under .stagecraft/logs', () => {
    expect(formatLogRecord(record('r', ['two\nlines']), new Date(0))).toBe(
      '1970-01-01T00:00:00.000Z\t4\tr\ttwo\rlines\n',
    );
    expect(logFile(logDir('/app'), 'shop-api-dev')).toBe('/app/.stagecraft/logs/shop-api-dev.log');
    expect(logFile('/logs', '../escape')).toBe('/logs/..%2fescape.log');
  });
});

describe('file log sink', () => {
  it('buffers writes and appends them on flush, in order, creating the folder', async () => {
    const dir = folder();
    const sink = new FileLogSink(dir, { flushMs: 60_000 });
    sink.write(record('r1', ['a', 'b']));
    sink.write(record('r2', ['c']));
    sink.write({ ...record('r3', ['x']), instance: 'shop-worker-dev' });
    expect(existsSync(dir)).toBe(false); // nothing touched the disk yet
    await sink.flush();
    sink.write(record('r4', ['d']));
    await sink.close();
    const lines = readFileSync(logFile(dir, 'shop-api-dev'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => parseLogLine(line));
    expect(lines.map((entry) => [entry?.requestId, entry?.line])).toEqual([
      ['r1', 'a'],
      ['r1', 'b'],
      ['r2', 'c'],
      ['r4', 'd'],
    ]);
    expect(readFileSync(logFile(dir, 'shop-worker-dev'), 'utf8')).toMatch(/\t4\tr3\tx\n$/);
  });

  it('flushes by itself after flushMs', async () => {
    const dir = folder();
    const sink = new FileLogSink(dir, { flushMs: 20 });
    sink.write(record('r1', ['soon']));
    const file = logFile(dir, 'shop-api-dev');
    // appendFile creates the file before its bytes land, so wait for the content, not the file.
    const read = (): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');
    while (!read().includes('\n')) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(read()).toContain('\tr1\tsoon\n');
  });

  it('reports a failed append instead of throwing', async () => {
    const blocker = folder();
    writeFileSync(blocker, 'a file where the folder should be');
    const errors: unknown[] = [];
    const sink = new FileLogSink(blocker, { onError: (error) => errors.push(error) });
    sink.write(record('r1', ['lost']));
    await sink.flush();
    expect(errors).toHaveLength(1);
  });
});

describe('log rotation', () => {
  it('moves a full file aside, keeps one older file, and reads a tail across both', async () => {
    const dir = folder();
    const sink = new FileLogSink(dir, { maxFileBytes: 2000 });
    const file = logFile(dir, 'shop-api-dev');
    // One flush per record: each append decides on its own whether the file must move aside.
    for (let i = 0; i < 60; i += 1) {
      sink.write(record(`r${i}`, [`line ${i}`]));
      await sink.flush();
      expect(statSync(file).size).toBeLessThanOrEqual(2000);
    }
    const older = readFileSync(rotatedLogFile(file), 'utf8').trim().split('\n');
    const latest = readFileSync(file, 'utf8').trim().split('\n');
    expect(existsSync(`${file}.2`)).toBe(false);
    // The older file ends where the latest begins: nothing lost between them, the oldest dropped.
    expect(Number(parseLogLine(older.at(-1) ?? '')?.requestId.slice(1)) + 1).toBe(
      Number(parseLogLine(latest[0] ?? '')?.requestId.slice(1)),
    );
    expect(parseLogLine(latest.at(-1) ?? '')?.requestId).toBe('r59');
    const wanted = latest.length + 3;
    const { entries } = await readLogTail(file, wanted);
    expect(entries.map((entry) => entry.requestId)).toEqual(
      Array.from({ length: wanted }, (_, i) => `r${60 - wanted + i}`),
    );
    expect((await readLogTail(file, 1000)).entries).toHaveLength(older.length + latest.length);
  });

  it('follows a file through its rotation: the rest of the rotated file, then the new one', async () => {
    const file = logWithLine('a');
    const seen = await followUntil(file, { end: 0 }, 'c', (lines) => {
      // Between two polls: a line lands in the old file, which then moves aside, and one in the new file.
      if (lines.length === 1) rotateBetween(file, 'b', 'c');
    });
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('follows from a tail read just before a rotation: the rest of the rotated file, then the new one', async () => {
    const file = logWithLine('a');
    const tail = await readLogTail(file, 10);
    // Before the first poll.
    rotateBetween(file, 'b', 'c');
    expect(tail.entries.map((entry) => entry.line)).toEqual(['a']);
    expect(await followUntil(file, tail, 'c')).toEqual(['b', 'c']);
  });

  it('reads the rest of a rotated file before the sink has written the next one', async () => {
    const file = logWithLine('a');
    const tail = await readLogTail(file, 10);
    rotateBetween(file, 'b');
    expect(await followUntil(file, tail, 'b')).toEqual(['b']);
  });
});

const logLine = (id: string): string => `2026-01-01T00:00:00.000Z\t4\t${id}\t${id}\n`;

/** A new instance log holding one line. */
function logWithLine(id: string): string {
  const dir = folder();
  const file = logFile(dir, 'shop-api-dev');
  mkdirSync(dir, { recursive: true });
  appendFileSync(file, logLine(id));
  return file;
}

/** A line lands in the file, which then moves aside as the sink rotates it, and one lands in the new file (if any). */
function rotateBetween(file: string, before: string, after?: string): void {
  appendFileSync(file, logLine(before));
  renameSync(file, rotatedLogFile(file));
  if (after !== undefined) appendFileSync(file, logLine(after));
}

/**
 * Every line followLog hands over from `from` until `last` (in the newest file: once it is seen,
 * a rotation has been read past, lost lines or not); `onLines` sees them as they come.
 */
async function followUntil(
  file: string,
  from: LogPosition,
  last: string,
  onLines: (lines: string[]) => void = () => undefined,
): Promise<string[]> {
  const seen: string[] = [];
  const stop = new AbortController();
  let done: () => void = () => undefined;
  const allSeen = new Promise<void>((resolve) => (done = resolve));
  const following = followLog(
    file,
    from,
    (entries) => {
      seen.push(...entries.map((entry) => entry.line));
      onLines(seen);
      if (seen.includes(last)) done();
    },
    stop.signal,
    5,
  );
  // A follower that fails rejects here rather than leave the test waiting.
  await Promise.race([allSeen, following]);
  stop.abort();
  await following;
  return seen;
}

describe('log reader', () => {
  it('reads the last N lines of a large file from its end', async () => {
    const dir = folder();
    const sink = new FileLogSink(dir);
    for (let i = 0; i < 5000; i += 1) sink.write(record(`r${i}`, [`line ${i} ${'x'.repeat(40)}`]));
    await sink.close();
    const file = logFile(dir, 'shop-api-dev');
    const { entries, end } = await readLogTail(file, 3);
    expect(entries.map((entry) => entry.requestId)).toEqual(['r4997', 'r4998', 'r4999']);
    expect(end).toBe(readFileSync(file).length);
    expect((await readLogTail(file, 10_000)).entries).toHaveLength(5000);
    expect(await readLogTail(join(dir, 'none.log'), 5)).toEqual({ entries: [], end: 0 });
    expect((await readLogTail(file, 3)).inode).toBe(statSync(file).ino);
  });

  it('follows appended lines, holding back a line until it is whole', async () => {
    const dir = folder();
    const file = logFile(dir, 'shop-api-dev');
    const seen: LogEntry[] = [];
    const waiting: { count: number; resolve: () => void }[] = [];
    const stop = new AbortController();
    const following = followLog(
      file,
      { end: 0 },
      (entries) => {
        seen.push(...entries);
        for (const wait of waiting.filter((candidate) => seen.length >= candidate.count)) wait.resolve();
      },
      stop.signal,
      10,
    );
    const until = (count: number): Promise<void> =>
      seen.length >= count ? Promise.resolve() : new Promise((resolve) => waiting.push({ count, resolve }));
    const sink = new FileLogSink(dir);
    sink.write(record('r1', ['first']));
    await sink.flush();
    await until(1);
    appendFileSync(file, '2026-01-01T00:00:00.000Z\t4\tr2\thal');
    // Polls enough to hand over the half line, if it would: never a reason to fail when slow.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen.map((entry) => entry.line)).toEqual(['first']);
    appendFileSync(file, 'f\n');
    await until(2);
    stop.abort();
    await following;
    expect(seen.map((entry) => entry.line)).toEqual(['first', 'half']);
  });
});
