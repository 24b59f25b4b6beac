/**
 * A bundler for `dev`: long-lived esbuild contexts, one per call (an edited function, or the
 * functions one change touched), rebuilt incrementally (https://esbuild.github.io/api/#rebuild), so
 * that an edit re-reads only what changed.
 */
import type { BuildContext } from 'esbuild';
import { esbuildBundler, loadEsbuild, type Bundler, type BundleOptions, type BundleOutput } from './bundle.js';
import { BuildCache, type CacheEntry } from './cache.js';

export interface IncrementalBundler extends Bundler {
  /** How many esbuild contexts are kept. */
  readonly open: number;
  /** Stops every esbuild context (and esbuild's service with the last one). */
  dispose(): Promise<void>;
}

/**
 * Contexts kept, the ones used last: a first build's calls (up to four) and the functions edited
 * since. Each holds its files' parsed modules in esbuild's process, so one per call ever made
 * would grow for as long as `dev` runs.
 */
export const KEPT_CONTEXTS = 8;

interface Kept {
  context: Promise<BuildContext<BundleOptions>>;
  /** The latest rebuild: a context let go is disposed once that is done. */
  last: Promise<unknown>;
}

export function incrementalBundler(kept: number = KEPT_CONTEXTS): IncrementalBundler {
  const { version } = esbuildBundler();
  // Options are the identity of a context: a changed handler or entry gets a context of its own.
  // In the order of their last use, the least recent first.
  const contexts = new Map<string, Kept>();
  const release = async (entry: Kept): Promise<void> => {
    await entry.last.catch(() => undefined);
    await (await entry.context.catch(() => undefined))?.dispose();
  };
  return {
    version,
    get open() {
      return contexts.size;
    },
    async build(options): Promise<BundleOutput> {
      const key = JSON.stringify(options);
      let entry = contexts.get(key);
      contexts.delete(key);
      if (entry === undefined) {
        const context = loadEsbuild().context(options);
        entry = { context, last: context };
        // A failed first build leaves no usable context behind: the next edit makes a fresh one.
        context.catch(() => {
          if (contexts.get(key) === entry) contexts.delete(key);
        });
      }
      contexts.set(key, entry);
      for (const [oldest, least] of contexts) {
        if (contexts.size <= kept) break;
        contexts.delete(oldest);
        release(least).catch(() => undefined);
      }
      const rebuilt = entry.context.then((context) => context.rebuild());
      entry.last = rebuilt;
      return rebuilt;
    },
    async dispose() {
      const all = [...contexts.values()];
      contexts.clear();
      await Promise.all(all.map(release));
    },
  };
}

/**
 * The build cache of a long-lived `dev`: entries are read from disk once and then kept in memory,
 * so that a reload does not read and parse one JSON file per function. An entry another process
 * wrote meanwhile is missed, which costs at most a rebuild: an entry only says which inputs made
 * which artifact, and each use checks both.
 */
export class MemoryBuildCache extends BuildCache {
  private readonly entries = new Map<string, CacheEntry | undefined>();

  static override forApp(appDir: string): MemoryBuildCache {
    return new MemoryBuildCache(BuildCache.forApp(appDir).dir);
  }

  override load(functionName: string, key: string): CacheEntry | undefined {
    const memo = `${functionName}\0${key}`;
    if (!this.entries.has(memo)) this.entries.set(memo, super.load(functionName, key));
    return this.entries.get(memo);
  }

  override save(functionName: string, entry: CacheEntry): void {
    super.save(functionName, entry);
    this.entries.set(`${functionName}\0${entry.key}`, entry);
  }
}
