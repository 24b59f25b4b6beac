/**
 * A bundler for `dev`: one long-lived esbuild context per function, rebuilt incrementally
 * (https://esbuild.github.io/api/#rebuild), so that an edit re-reads only what changed.
 */
import type { BuildContext } from 'esbuild';
import { esbuildBundler, loadEsbuild, type Bundler, type BundleOptions, type BundleOutput } from './bundle.js';
import { BuildCache, type CacheEntry } from './cache.js';

export interface IncrementalBundler extends Bundler {
  /** Stops every esbuild context (and esbuild's service with the last one). */
  dispose(): Promise<void>;
}

export function incrementalBundler(): IncrementalBundler {
  const { version } = esbuildBundler();
  // Options are the identity of a context: a changed handler or entry gets a context of its own.
  const contexts = new Map<string, Promise<BuildContext<BundleOptions>>>();
  return {
    version,
    async build(options): Promise<BundleOutput> {
      const key = JSON.stringify(options);
      let context = contexts.get(key);
      if (context === undefined) {
        context = loadEsbuild().context(options);
        contexts.set(key, context);
        // A failed first build leaves no usable context behind: the next edit makes a fresh one.
        context.catch(() => contexts.delete(key));
      }
      return (await context).rebuild();
    },
    async dispose() {
      const all = [...contexts.values()];
      contexts.clear();
      await Promise.all(all.map(async (context) => (await context.catch(() => undefined))?.dispose()));
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
