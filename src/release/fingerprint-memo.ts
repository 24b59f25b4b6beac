/**
 * What a file hashed to, remembered across builds with the file's status (size, change times,
 * inode): a file whose status is the same is not read again. Content still decides everything;
 * the status only says that the content cannot have changed. A file hashed within RACY_MS of its
 * last change is not trusted (a second write in the same clock tick would leave the times as
 * they were, https://git-scm.com/docs/racy-git): it is read again next time.
 */
import { readFileSync, statSync } from 'node:fs';
import { replaceCacheFile } from '../replace-file.js';
import type { FileFingerprint } from './cache.js';

/** More than the coarsest clock tick of the file systems in use (FAT: 2 s). */
const RACY_MS = 3000;
/** Bump when the layout of the file changes. */
const MEMO_FORMAT = 1;

interface Remembered {
  /** size:mtimeNs:ctimeNs:ino, as statSync gives them in nanoseconds. */
  status: string;
  sha256: string;
  size: number;
}

export class FingerprintMemo {
  private readonly before: Map<string, Remembered>;
  private readonly seen = new Map<string, Remembered>();
  /** A file was read and can be trusted next time: the memo has something new to write. */
  private learned = false;
  /** The remembered files this build asked about, whatever their status. */
  private readonly askedKnown = new Set<string>();

  /** `now`: the clock that says how long ago a file last changed (tests move it). */
  constructor(
    private readonly file: string,
    private readonly now: () => number = Date.now,
  ) {
    let entries: Record<string, Remembered> = {};
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { format?: number; files?: Record<string, Remembered> };
      if (saved.format === MEMO_FORMAT && typeof saved.files === 'object' && saved.files !== null)
        entries = saved.files;
    } catch {
      // None yet, or unreadable: every file is read.
    }
    this.before = new Map(Object.entries(entries));
  }

  /** The file's fingerprint, read only when its status is not the one remembered; null when unreadable. */
  fingerprint(path: string, read: (path: string) => FileFingerprint | null): FileFingerprint | null {
    let status: string;
    let changedMs: number;
    try {
      const stats = statSync(path, { bigint: true });
      if (!stats.isFile()) return read(path);
      status = `${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}:${stats.ino}`;
      changedMs = Number((stats.mtimeNs > stats.ctimeNs ? stats.mtimeNs : stats.ctimeNs) / 1_000_000n);
    } catch {
      return read(path);
    }
    const known = this.before.get(path);
    if (known !== undefined) this.askedKnown.add(path);
    if (known !== undefined && known.status === status) {
      this.seen.set(path, known);
      return { sha256: known.sha256, size: known.size };
    }
    const fingerprint = read(path);
    // Trusted next time only if it was last changed well before this read.
    if (fingerprint !== null && this.now() - changedMs > RACY_MS) {
      this.seen.set(path, { status, ...fingerprint });
      this.learned = true;
    }
    return fingerprint;
  }

  /**
   * Writes what this build saw (only the files it asked about), when it learned something to
   * trust or stopped asking about a file. A file read again but too fresh to trust (the one just
   * edited, most often) leaves the memo as it was: its old entry no longer matches its status.
   */
  save(): void {
    if (!this.learned && this.askedKnown.size === this.before.size) return;
    replaceCacheFile(this.file, JSON.stringify({ format: MEMO_FORMAT, files: Object.fromEntries(this.seen) }));
  }
}
