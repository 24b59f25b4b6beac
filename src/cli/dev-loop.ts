/**
 * What `stagecraft dev` does on each change: rebuild (incrementally; cached functions are not
 * bundled again), record the release, publish the changed functions in the developer's
 * environment, start their new environments, move `live`, and drain the old ones. A failure keeps
 * the old code serving; a function that fails to build keeps its old code while the others reload.
 */
import { resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import {
  FileHasher,
  gitSource,
  MemoryBuildCache,
  zipPool,
  type IncrementalBundler,
  type LintFinding,
  type Zipper,
} from '../release/index.js';
import { isStagecraftError, StagecraftError } from '../errors.js';
import { loadManifest, MANIFEST_FILE } from '../manifest/index.js';
import { buildRelease, markDevRelease, publishDev, type BuildTimings } from '../promotion/index.js';
import type { WarmUp } from '../runtime/index.js';
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
      /** Where the time went, in ms: see `DevPhases`. */
      phases: DevPhases;
      /** Epoch ms (fractional) of the first file event of this reload and of the moment `live` moved. */
      changedAt: number;
      liveAt: number;
    }
  | { event: 'error'; trigger: string[]; code: string; message: string; details: string[]; hint?: string };

/** The steps of one reload, in ms, in order; together they make `totalMs` (but `quietMs`, before it). */
export interface DevPhases extends BuildTimings {
  /** From the first file event to the start of the rebuild: the wait for the folder to be quiet. */
  quietMs: number;
  /** Marking the release and publishing the versions. */
  publishMs: number;
  /** The new versions' execution environments: their cold start, before `live` moves. */
  warmMs: number;
  /** Moving `live` and telling the running gateway. */
  liveMs: number;
}

/** What the loop needs of the running local runtime (absent before it starts). */
export interface DevRuntime {
  warmVersion(env: string, fn: string, version: number): Promise<WarmUp>;
  /** Re-reads the aliases, so that the next request runs the version `live` now points at. */
  refreshAliases(): void;
  retireOtherVersions(env: string, fn: string, version: number): void;
}

export interface DevLoopOptions {
  app: OpenedApp;
  out: Output;
  env: string;
  bundler: IncrementalBundler;
  smoke: boolean;
  emit: (event: DevEvent) => void;
}

/** Top-level folders that are never the app's sources. */
const IGNORED = /^(\.stagecraft|\.git|node_modules|\.tmp[^/]*)(\/|$)/;

/**
 * Editors and tools write a file in steps (truncate, write, rename), microseconds apart: a
 * reload waits until the folder has been quiet this long, so it does not build a half-written file.
 */
const QUIET_MS = 10;

/**
 * The old version's environments are stopped this long after `live` moved, not at once: stopping
 * one walks /proc synchronously (src/runtime/process-tree.ts), which would hold up the very first
 * request to the new code. No request reaches them meanwhile: `live` has moved.
 */
const RETIRE_AFTER_MS = 1_000;

/** Wall-clock ms with a fraction, comparable across processes (the bench reads it). */
const epochNow = (): number => performance.timeOrigin + performance.now();

export class DevLoop {
  private ctx: OpenedApp;
  /** Function → the artifact this loop put live; kept when the function's next build fails. */
  private readonly artifacts = new Map<string, { sha256: string; size: number }>();
  private pending = new Set<string>();
  private lastChange = 0;
  private firstChange = 0;
  private runtime: DevRuntime | undefined;
  /** Per function, the pending stop of its old versions' environments. */
  private readonly retiring = new Map<string, NodeJS.Timeout>();
  private running: Promise<void> | undefined;
  private watcher: TreeWatch | undefined;
  /** Fingerprints kept between reloads; the watcher says which files to read again. */
  private readonly hasher = new FileHasher();
  private readonly cache: MemoryBuildCache;
  /** Credential-scan findings by file content: an edit scans the edited file only. */
  private readonly scanMemo = new Map<string, LintFinding[]>();
  /** Started once: an edited function's bundle and source map are zipped side by side. */
  private readonly zipper: Zipper = zipPool(availableParallelism());
  private closing: Promise<void> | undefined;

  constructor(private readonly options: DevLoopOptions) {
    this.ctx = options.app;
    this.cache = MemoryBuildCache.forApp(options.app.loaded.appDir);
  }

  /** Builds and publishes every function; a failure is reported and the loop waits for a fix. */
  async initial(): Promise<void> {
    await this.reload(['(start)'], true);
  }

  /** From now on, new versions are warmed before `live` moves and old ones drain after. */
  attach(runtime: DevRuntime): void {
    this.runtime = runtime;
  }

  watch(): void {
    this.watcher = watchTree(
      this.ctx.loaded.appDir,
      (path) => IGNORED.test(path),
      (path) => {
        if (this.pending.size === 0) this.firstChange = epochNow();
        this.pending.add(path);
        this.lastChange = performance.now();
        this.hasher.forget(resolve(this.ctx.loaded.appDir, path));
        this.running ??= this.drain();
      },
    );
  }

  /** Stops watching and waits for the reload in flight; safe to call again. */
  async close(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    for (const timer of this.retiring.values()) clearTimeout(timer);
    await this.running;
    this.closing ??= this.zipper.close();
    await this.closing;
  }

  /** Reloads until no change is left; changes made during a reload make one more. */
  private async drain(): Promise<void> {
    while (this.pending.size > 0) {
      for (let left = QUIET_MS; left > 0; left = QUIET_MS - (performance.now() - this.lastChange))
        await new Promise((resolve) => setTimeout(resolve, left));
      const trigger = [...this.pending].sort();
      const changedAt = this.firstChange;
      this.pending = new Set();
      await this.reload(trigger, trigger.includes(MANIFEST_FILE), changedAt);
    }
    this.running = undefined;
  }

  private async reload(trigger: string[], manifestChanged: boolean, changedAt = epochNow()): Promise<void> {
    const started = performance.now();
    const quietMs = Math.max(0, started - (changedAt - performance.timeOrigin));
    const { env } = this.options;
    try {
      if (manifestChanged) {
        // Re-validated first: an invalid manifest leaves the old release serving.
        this.ctx = { ...this.options.app, loaded: await loadManifest(this.ctx.loaded.appDir) } as OpenedApp;
      }
      const timings: BuildTimings = {};
      const built = await buildRelease(this.ctx, {
        bundler: this.options.bundler,
        hasher: this.hasher,
        cache: this.cache,
        scanMemo: this.scanMemo,
        zipper: this.zipper,
        quiet: true,
        // git looks at the tree while esbuild bundles, started once esbuild has the request: a
        // spawn blocks this thread for tens of milliseconds (the larger the process, the longer).
        source: new Promise<void>((resolve) => setImmediate(resolve)).then(() => gitSource(this.ctx.loaded.appDir)),
        fallback: this.artifacts,
        timings,
      });
      if (built.failed) this.fail(trigger, built.failed.error);
      const buildMs = performance.now() - started;
      const kept = new Set(built.failed?.functions);
      const rebuilt = built.functions.filter((fn) => !fn.cached).map((fn) => fn.function);
      const changed = built.functions
        .filter(
          (fn) => !kept.has(fn.function) && (manifestChanged || this.artifacts.get(fn.function)?.sha256 !== fn.sha256),
        )
        .map((fn) => fn.function);
      if (changed.length === 0) return;
      markDevRelease(this.ctx, built.release, env);
      let warmedAt = performance.now();
      let publishedAt = warmedAt;
      const runtime = this.runtime;
      const published = await publishDev(this.ctx, built.release, env, changed, {
        smoke: this.options.smoke,
        warm: async (versions) => {
          publishedAt = performance.now();
          const failed = runtime ? await warmAll(runtime, env, versions) : [];
          warmedAt = performance.now();
          for (const { error } of failed) this.fail(trigger, error);
          return failed.map(({ fn }) => fn);
        },
      });
      if (published.live) {
        for (const fn of built.functions) {
          if (!(fn.function in published.versions)) continue;
          this.artifacts.set(fn.function, { sha256: fn.sha256, size: fn.size });
        }
        runtime?.refreshAliases();
      }
      const liveAt = epochNow();
      if (published.live && runtime) {
        for (const [fn, version] of Object.entries(published.versions)) this.retireLater(runtime, fn, version);
      }
      const finished = performance.now();
      const totalMs = finished - started;
      const round = (ms: number): number => Math.round(ms * 10) / 10;
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
          phases: {
            quietMs: round(quietMs),
            ...timings,
            publishMs: round(publishedAt - started - buildMs),
            warmMs: round(warmedAt - publishedAt),
            liveMs: round(finished - warmedAt),
          },
          changedAt,
          liveAt,
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

  private retireLater(runtime: DevRuntime, fn: string, version: number): void {
    clearTimeout(this.retiring.get(fn));
    const timer = setTimeout(() => {
      this.retiring.delete(fn);
      runtime.retireOtherVersions(this.options.env, fn, version);
    }, RETIRE_AFTER_MS);
    timer.unref();
    this.retiring.set(fn, timer);
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

/**
 * Starts the execution environment of every new version at once and waits for their init. An
 * init error is the new code's fault: returned with its stack, so that its `live` stays.
 */
async function warmAll(
  runtime: DevRuntime,
  env: string,
  versions: Record<string, number>,
): Promise<{ fn: string; error: StagecraftError }[]> {
  const results = await Promise.all(
    Object.entries(versions).map(async ([fn, version]) => ({ fn, warm: await runtime.warmVersion(env, fn, version) })),
  );
  return results.flatMap(({ fn, warm }) =>
    warm.initError === undefined
      ? []
      : [
          {
            fn,
            error: new StagecraftError(
              'INVOKE_FAILED',
              `${fn}: the new code failed to start: ${warm.initError.errorType}: ${warm.initError.errorMessage}`,
              // Node's runtime sends `trace`, custom runtimes `stackTrace`: the frames after the message line.
              { details: (warm.initError.trace ?? warm.initError.stackTrace ?? []).slice(1, 6).map((f) => f.trim()) },
            ),
          },
        ],
  );
}
