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
  /** Disposes every esbuild context, once the rebuilds under way are done. */
  dispose(): Promise<void>;
}

/**
 * Contexts kept, the ones used last: a first build's calls (up to four) and the functions edited
 * since. Each holds its files' parsed modules in esbuild's process, so one per call ever made
 * would grow for as long as `dev` runs.
 */
export const KEPT_CONTEXTS = 8;

export interface IncrementalBundlerOptions {
  /** Default: KEPT_CONTEXTS; at least 1. */
  kept?: number;
  /** Default: esbuild's own `context`. */
  createContext?: (options: BundleOptions) => Promise<BuildContext<BundleOptions>>;
}

interface Kept {
  context: Promise<BuildContext<BundleOptions>>;
  /** Every rebuild so far has settled once this has: a context let go is disposed after that. */
  settled: Promise<unknown>;
}

export function incrementalBundler(options: IncrementalBundlerOptions = {}): IncrementalBundler {
  const { version } = esbuildBundler();
  const kept = Math.max(1, options.kept ?? KEPT_CONTEXTS);
  const createContext = options.createContext ?? ((bundle) => loadEsbuild().context(bundle));
  // Options are the identity of a context: a changed handler or entry gets a context of its own.
  // In the order of their last use, the least recent first.
  const contexts = new Map<string, Kept>();
  const releasing = new Set<Promise<void>>();
  const release = (entry: Kept): void => {
    const done = (async () => {
      await entry.settled;
      await (await entry.context.catch(() => undefined))?.dispose();
    })()
      .catch(() => undefined)
      .finally(() => releasing.delete(done));
    releasing.add(done);
  };
  return {
    version,
    get open() {
      return contexts.size;
    },
    async build(bundle): Promise<BundleOutput> {
      const key = JSON.stringify(bundle);
      let entry = contexts.get(key);
      contexts.delete(key);
      if (entry === undefined) {
        const context = createContext(bundle);
        entry = { context, settled: context.catch(() => undefined) };
        // A failed first build leaves no usable context behind: the next edit makes a fresh one.
        context.catch(() => {
          if (contexts.get(key) === entry) contexts.delete(key);
        });
      }
      const rebuilt = entry.context.then((context) => context.rebuild());
      entry.settled = Promise.allSettled([entry.settled, rebuilt]);
      contexts.set(key, entry);
      for (const [oldest, least] of contexts) {
        if (contexts.size <= kept) break;
        contexts.delete(oldest);
        release(least);
      }
      return rebuilt;
    },
    async dispose() {
      for (const entry of contexts.values()) release(entry);
      contexts.clear();
      await Promise.all([...releasing]);
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
