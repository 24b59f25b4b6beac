/**
 * What `stagecraft dev` does on each change: rebuild (incrementally; cached functions are not
 * bundled again), record the release, publish the changed functions in the developer's
 * environment and move `live`, then tell the running gateway. A failure keeps the old code serving.
 */
import { resolve } from 'node:path';
import { FileHasher, type IncrementalBundler, type LintFinding } from '../build/index.js';
import { isStagecraftError, StagecraftError } from '../errors.js';
import { loadManifest, MANIFEST_FILE } from '../manifest/index.js';
import { buildRelease, markDevRelease, publishDev } from '../promotion/index.js';
import type { OpenedApp } from './app.js';
import type { Output } from './output.js';
import { watchTree, type TreeWatch } from './watch-tree.js';

export type DevEvent =
  | {
      event: 'reload';
      trigger: string[];
      rebuilt: string[];
      release: string;
      environment: string;
      versions: Record<string, number>;
      buildMs: number;
      publishMs: number;
      totalMs: number;
      live: boolean;
    }
  | { event: 'error'; trigger: string[]; code: string; message: string; details: string[]; hint?: string };

export interface DevLoopOptions {
  app: OpenedApp;
  out: Output;
  env: string;
  bundler: IncrementalBundler;
  smoke: boolean;
  /** Called after `live` moved, so the running gateway serves the new versions. */
  onLive: () => void;
  emit: (event: DevEvent) => void;
}

/** Top-level folders that are never the app's sources. */
const IGNORED = /^(\.stagecraft|\.git|node_modules|\.tmp[^/]*)(\/|$)/;

/**
 * Editors and tools write a file in steps (truncate, write, rename): a reload waits until the
 * folder has been quiet this long, so it does not build a half-written file for nothing.
 */
const QUIET_MS = 15;

export class DevLoop {
  private ctx: OpenedApp;
  /** Function → the sha256 now live in the environment, from this loop. */
  private readonly live = new Map<string, string>();
  private pending = new Set<string>();
  private lastChange = 0;
  private running: Promise<void> | undefined;
  private watcher: TreeWatch | undefined;
  /** Fingerprints kept between reloads; the watcher says which files to read again. */
  private readonly hasher = new FileHasher();
  /** Credential-scan findings by file content: an edit scans the edited file only. */
  private readonly scanMemo = new Map<string, LintFinding[]>();

  constructor(private readonly options: DevLoopOptions) {
    this.ctx = options.app;
  }

  /** Builds and publishes every function; a failure is reported and the loop waits for a fix. */
  async initial(): Promise<void> {
    await this.reload(['(start)'], true);
  }

  watch(): void {
    this.watcher = watchTree(
      this.ctx.loaded.appDir,
      (path) => IGNORED.test(path),
      (path) => {
        this.pending.add(path);
        this.lastChange = performance.now();
        this.hasher.forget(resolve(this.ctx.loaded.appDir, path));
        this.running ??= this.drain();
      },
    );
  }

  close(): Promise<void> {
    this.watcher?.close();
    return this.running ?? Promise.resolve();
  }

  /** Reloads until no change is left; changes made during a reload make one more. */
  private async drain(): Promise<void> {
    while (this.pending.size > 0) {
      while (performance.now() - this.lastChange < QUIET_MS)
        await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
      const trigger = [...this.pending].sort();
      this.pending = new Set();
      await this.reload(trigger, trigger.includes(MANIFEST_FILE));
    }
    this.running = undefined;
  }

  private async reload(trigger: string[], manifestChanged: boolean): Promise<void> {
    const started = performance.now();
    try {
      if (manifestChanged) {
        // Re-validated first: an invalid manifest leaves the old release serving.
        this.ctx = { ...this.options.app, loaded: await loadManifest(this.ctx.loaded.appDir) } as OpenedApp;
      }
      const built = await buildRelease(this.ctx, {
        bundler: this.options.bundler,
        hasher: this.hasher,
        scanMemo: this.scanMemo,
        quiet: true,
      });
      const buildMs = performance.now() - started;
      const rebuilt = built.functions.filter((fn) => !fn.cached).map((fn) => fn.function);
      const changed = built.functions
        .filter((fn) => manifestChanged || this.live.get(fn.function) !== fn.sha256)
        .map((fn) => fn.function);
      if (changed.length === 0) return;
      markDevRelease(this.ctx, built.release, this.options.env);
      const published = await publishDev(this.ctx, built.release, this.options.env, changed, {
        smoke: this.options.smoke,
      });
      if (published.live) {
        for (const fn of built.functions) if (changed.includes(fn.function)) this.live.set(fn.function, fn.sha256);
        this.options.onLive();
      }
      const totalMs = performance.now() - started;
      this.report(
        {
          event: 'reload',
          trigger,
          rebuilt,
          release: built.release.id,
          environment: this.options.env,
          versions: published.versions,
          buildMs: Math.round(buildMs),
          publishMs: Math.round(totalMs - buildMs),
          totalMs: Math.round(totalMs),
          live: published.live,
        },
        published.smoke
          .filter((result) => !result.ok)
          .map((result) => `smoke test ${result.name} failed: ${result.failure?.join(' ') ?? ''}`),
      );
    } catch (error) {
      // Not one of ours is a bug, yet the loop stays up: the old code serves and the next save retries.
      this.fail(
        trigger,
        isStagecraftError(error)
          ? error
          : new StagecraftError('BUILD_FAILED', `internal error: ${(error as Error)?.stack ?? String(error)}`, {
              cause: error,
            }),
      );
    }
  }

  private report(event: Extract<DevEvent, { event: 'reload' }>, failures: string[]): void {
    this.options.emit(event);
    const names =
      event.rebuilt.length > 3 ? `${event.rebuilt.length} functions` : event.rebuilt.join(', ') || 'nothing';
    const versions = Object.values(event.versions);
    const what = versions.length === 1 ? `v${versions[0]}` : `${versions.length} versions`;
    const where = event.live ? `live in ${event.environment}` : `on smoke in ${event.environment}; live stays`;
    this.options.out.progress(`${names} rebuilt (${event.buildMs} ms) → ${what} ${where} (${event.publishMs} ms)`);
    for (const line of failures) this.options.out.warn(line);
  }

  private fail(trigger: string[], error: StagecraftError): void {
    this.options.emit({
      event: 'error',
      trigger,
      code: error.code,
      message: error.message,
      details: [...error.details],
      ...(error.hint ? { hint: error.hint } : {}),
    });
    const { out } = this.options;
    out.warn(`${error.message}; the previous code keeps serving`);
    for (const line of error.details) if (!error.message.includes(line)) out.warn(`  ${line}`);
  }
}
