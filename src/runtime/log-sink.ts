/**
 * Where invocation logs go after the invocation: START, the function's own lines, END and REPORT,
 * as `InvokeOutcome.logs` holds them. The file sink keeps one file per function instance under
 * `<app>/.stagecraft/logs/<instance>.log` — what a CloudWatch log group is to Lambda — and
 * appends one text line per log line:
 *
 *   <ISO time>\t<version>\t<request id>\t<the line as the function or platform wrote it>
 *
 * The time is when the invocation ended (platform lines carry none of their own); version and
 * request id make `grep` enough to pick out one version or one invocation, and the reader in
 * log-reader.ts parses lines back. A line never contains a newline: like Lambda's Node runtime we
 * turn one inside a line into `\r`. A file that reaches `maxFileBytes` is moved aside to
 * `<instance>.log.1` (replacing the one before), so a long `up` keeps a bounded tail.
 *
 * Writing must cost the hot path nothing it can notice, so `write` only formats into a buffer;
 * an append per file leaves at most every `flushMs` (or sooner once `maxBufferBytes` are waiting).
 * Whoever owns the sink flushes it before exit (`RuntimeHost.drain` does; `close` does).
 */
import { appendFile, mkdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface LogRecord {
  /** The function instance (its Lambda function name), e.g. `shop-api-dev`. */
  instance: string;
  version: string;
  requestId: string;
  lines: readonly string[];
}

export interface LogSink {
  /** Takes one invocation's lines. Returns at once; never throws. */
  write(record: LogRecord): void;
  /** Resolves when everything written so far is stored. Never rejects. */
  flush(): Promise<void>;
}

/** `<app>/.stagecraft/logs`: where the file sink of an app keeps its files. */
export function logDir(appDir: string): string {
  return join(appDir, '.stagecraft', 'logs');
}

/** The file of one instance. Instance names are `[a-z0-9-]`; anything else is escaped, never a path. */
export function logFile(dir: string, instance: string): string {
  return join(dir, `${instance.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16)}`)}.log`);
}

/**
 * Where an instance's file goes once it holds `maxFileBytes`: one older file is kept, the one
 * before it dropped, as CloudWatch drops what is past a log group's retention.
 */
export function rotatedLogFile(file: string): string {
  return `${file}.1`;
}

/** One invocation as file text, each line ended by `\n`. */
export function formatLogRecord(record: LogRecord, time: Date): string {
  const prefix = `${time.toISOString()}\t${record.version}\t${record.requestId}\t`;
  let text = '';
  for (const line of record.lines) text += `${prefix}${line.includes('\n') ? line.replaceAll('\n', '\r') : line}\n`;
  return text;
}

export interface FileLogSinkOptions {
  /** Longest a written line waits in memory; default 100 ms. */
  flushMs?: number;
  /** Flush at once when this much text is waiting; default 1 MiB. */
  maxBufferBytes?: number;
  /** A failed append (disk full, folder removed): the lines are lost, the caller is told. */
  onError?: (error: unknown) => void;
  /**
   * An instance's file is moved aside (rotatedLogFile) before an append would take it past this;
   * default 64 MiB, so an instance keeps 64–128 MiB of lines: a load test against `up` writes
   * about 450 bytes per invocation.
   */
  maxFileBytes?: number;
}

export class FileLogSink implements LogSink {
  private readonly pending = new Map<string, string[]>();
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** One append at a time per file, in order. */
  private readonly appending = new Map<string, Promise<void>>();
  private folder: Promise<unknown> | undefined;
  private readonly flushMs: number;
  private readonly maxBufferBytes: number;
  private readonly maxFileBytes: number;

  constructor(
    readonly dir: string,
    private readonly options: FileLogSinkOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 100;
    this.maxBufferBytes = options.maxBufferBytes ?? 1024 * 1024;
    this.maxFileBytes = options.maxFileBytes ?? 64 * 1024 * 1024;
  }

  write(record: LogRecord): void {
    if (record.lines.length === 0) return;
    const text = formatLogRecord(record, new Date());
    let texts = this.pending.get(record.instance);
    if (texts === undefined) {
      texts = [];
      this.pending.set(record.instance, texts);
    }
    texts.push(text);
    this.pendingBytes += text.length;
    if (this.pendingBytes >= this.maxBufferBytes) void this.flush();
    else if (this.timer === undefined) {
      // Unref'd: a sink never keeps a process alive; its owner flushes before exit.
      this.timer = setTimeout(() => void this.flush(), this.flushMs).unref();
    }
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batches = [...this.pending];
    this.pending.clear();
    this.pendingBytes = 0;
    for (const [instance, texts] of batches) {
      const previous = this.appending.get(instance) ?? Promise.resolve();
      const next = previous.then(() => this.append(instance, texts.join('')));
      this.appending.set(instance, next);
      void next.then(() => {
        if (this.appending.get(instance) === next) this.appending.delete(instance);
      });
    }
    return Promise.all(this.appending.values()).then(() => undefined);
  }

  /** Flushes; the sink stays usable (closing holds no resources). */
  close(): Promise<void> {
    return this.flush();
  }

  private async append(instance: string, text: string): Promise<void> {
    try {
      this.folder ??= mkdir(this.dir, { recursive: true });
      await this.folder;
      const file = logFile(this.dir, instance);
      // Asked of the file, not counted here: `stagecraft invoke` may append to it from another process.
      const size = await stat(file).then(
        (info) => info.size,
        () => 0,
      );
      if (size > 0 && size + Buffer.byteLength(text) > this.maxFileBytes) {
        // Another process may have moved it aside first: then append to its new file.
        await rename(file, rotatedLogFile(file)).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
      }
      await appendFile(file, text);
    } catch (error) {
      this.folder = undefined;
      this.options.onError?.(error);
    }
  }
}
