/**
 * Node.js functions: each one whose inputs are unchanged reuses its cached artifact; the others
 * are bundled together, in a few esbuild calls (src/release/bundle-functions.ts).
 */
import { StagecraftError } from '../errors.js';
import { portableBundleOptions, resolveHandler } from './bundle.js';
import { bundleFunctions, type FunctionTarget } from './bundle-functions.js';
import { BUILD_FORMAT, cacheKey, inputsUnchanged } from './cache.js';
import { stillStored, type BuildContext, type PreparedArtifact } from './prepared.js';
import type { FunctionSource } from './prepared.js';

/** A Node function that must be bundled: its handler and its cache key. */
export interface StaleNodeFunction extends FunctionTarget {
  key: string;
}

/** The cached artifact of a Node function when nothing it was built from changed, else what to bundle. */
export function planNodeFunction(
  context: BuildContext,
  name: string,
  source: FunctionSource,
): PreparedArtifact | StaleNodeFunction {
  if (source.code !== undefined) {
    throw new StagecraftError(
      'BUILD_FAILED',
      `Function "${name}": a code folder is only for provided* runtimes; ${source.runtime} functions are bundled from their handler.`,
      {
        hint: `Remove functions.${name}.code, or switch the function to a provided* runtime.`,
      },
    );
  }
  const { appDir, store, bundler, cache, index, hasher } = context;
  const target = resolveHandler(appDir, name, source.handler);
  const key = cacheKey({
    kind: 'node',
    handler: source.handler,
    runtime: source.runtime,
    entry: target.file,
    bundler: bundler.version,
    options: portableBundleOptions(),
  });
  const indexed = index?.lookup(appDir, name, key, hasher);
  if (indexed !== undefined && stillStored(store, indexed)) {
    index?.keep(name);
    return { kind: 'cached', sources: indexed.sources, inputs: indexed.sources.length, artifact: indexed.artifact };
  }
  const known = cache.load(name, key);
  if (known !== undefined && inputsUnchanged(appDir, known, hasher) && stillStored(store, known)) {
    index?.put(name, known);
    const sources = Object.keys(known.inputs);
    return { kind: 'cached', sources, inputs: sources.length, artifact: known.artifact };
  }
  return { name, target, key };
}

/**
 * Bundles the stale functions together; each gets its new artifact's files, or its own error,
 * through `onPrepared` as soon as its esbuild call is done.
 */
export async function bundleNodeFunctions(
  context: BuildContext,
  stale: readonly StaleNodeFunction[],
  concurrency: number,
  onPrepared: (name: string, prepared: PreparedArtifact | StagecraftError) => void,
): Promise<void> {
  const { appDir, hasher } = context;
  const keys = new Map(stale.map((fn) => [fn.name, fn.key]));
  await bundleFunctions(appDir, stale, context.bundler, concurrency, (name, result) => {
    const key = keys.get(name);
    if (key === undefined) return;
    if (result instanceof StagecraftError) {
      onPrepared(name, result);
      return;
    }
    const sources = Object.keys(result.inputs);
    onPrepared(name, {
      kind: 'fresh',
      sources,
      inputs: sources.length,
      entries: result.entries,
      record() {
        const inputs: Record<string, string> = {};
        let settled = true;
        for (const [path, bytes] of Object.entries(result.inputs)) {
          const fingerprint = hasher.input(appDir, path);
          // A file whose size is not what esbuild read was edited during the build: recording its new
          // hash would pin an artifact of the old content, so this build is not cached.
          if (fingerprint === null || fingerprint.size !== bytes) settled = false;
          inputs[path] = fingerprint?.sha256 ?? '';
        }
        return settled ? { format: BUILD_FORMAT, key, inputs, context: hasher.context(appDir) } : undefined;
      },
    });
  });
}
