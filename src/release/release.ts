/**
 * Building every function of an app into artifacts (reusing cached ones), and the digest that
 * identifies a release: the same manifest, artifacts and commit always give the same digest.
 */
import { availableParallelism } from 'node:os';
import { posix, resolve } from 'node:path';
import { StagecraftError, isStagecraftError } from '../errors.js';
import type { ArtifactStore } from './artifact-store.js';
import { esbuildBundler, type Bundler } from './bundle.js';
import { BUILD_FORMAT, BuildCache, FileHasher, cacheKey } from './cache.js';
import { CacheIndex } from './cache-index.js';
import { forEachLimited } from './concurrency.js';
import { FingerprintMemo } from './fingerprint-memo.js';
import { sha256Hex, stableStringify } from '../digest.js';
import { bundleNodeFunctions, planNodeFunction, type StaleNodeFunction } from './node-functions.js';
import { compareCodeUnits } from './order.js';
import { installRequirements, requirementsKey, type PythonToolchain } from './pip.js';
import {
  cachedListing,
  type BuildContext,
  type FreshArtifact,
  type FunctionSource,
  type PreparedArtifact,
} from './prepared.js';
import { isNodeRuntime, isProvidedRuntime, readCodeFolder } from './provided.js';
import { dependencyEntries, findRequirements, readPythonSource } from './python.js';
import type { ZipEntry } from './zip.js';
import { adaptiveZipper, inlineZipper, zipPool, type Zipper } from './zip-pool.js';

export type { FunctionSource };

export interface BuildArtifactsOptions {
  appDir: string;
  functions: Record<string, FunctionSource>;
  store: ArtifactStore;
  /** Most zips, pip installs (and, to tell failures apart, lone bundles) at once; default: the number of CPUs. */
  concurrency?: number;
  /** Default: esbuild. */
  bundler?: Bundler;
  /**
   * Default: `<appDir>/.stagecraft/cache`, with its index of every Node function's entry
   * (src/release/cache-index.ts). A cache passed in is used without the index.
   */
  cache?: BuildCache;
  /**
   * Default: a fresh one that reads again every file whose status changed since the last build
   * (src/release/fingerprint-memo.ts); `dev` keeps one and forgets the files it saw change.
   */
  hasher?: FileHasher;
  /**
   * Called once with every source file the artifacts are made of (relative to the app), after
   * bundling and before anything is written: a throw stops the build with nothing written.
   * The credential scan runs here.
   */
  beforeWrite?: (sources: readonly string[]) => Promise<void>;
  /**
   * Called once when any function is built anew (before bundling, or once a Python or provided
   * function's files turn out new), so the gate can load while esbuild runs.
   */
  beforeBundle?: () => void;
  /** How python functions find the interpreter that runs pip; needed only when there are some. */
  python?: PythonToolchain;
  /**
   * Default: on this thread, and on worker threads started for this build once its new artifacts
   * add up to a few MB (src/release/zip-pool.ts).
   * `dev` keeps a pool of its own: one edited function's bundle and source map are zipped side by
   * side, and starting workers on every edit would slow the rebuild they run beside.
   */
  zipper?: Zipper;
  /**
   * `dev`: told which functions failed to build (and why, as one error) instead of a throw; the
   * result then holds the others only, so that one broken handler does not hold back the rest.
   */
  onFailure?: (failed: string[], error: StagecraftError) => void;
}

export interface BuiltArtifact {
  sha256: string;
  size: number;
  /** True when the artifact of an earlier build was reused without bundling. */
  cached: boolean;
  /** How many source files went into it. */
  inputs: number;
}

/**
 * Builds every function into the store and returns its artifact, by function name (sorted).
 * When some fail, the others are still built (and cached); the failures are then thrown together.
 *
 * The Node functions to bundle go to esbuild in a few calls; each new artifact is zipped as soon as
 * its call is done (on this thread while there is little to zip, then on worker threads), and all
 * are stored with their flushes side by side.
 */
export async function buildArtifacts(options: BuildArtifactsOptions): Promise<Record<string, BuiltArtifact>> {
  const appDir = resolve(options.appDir);
  const cache = options.cache ?? BuildCache.forApp(appDir);
  const context: BuildContext = {
    appDir,
    store: options.store,
    bundler: options.bundler ?? esbuildBundler(),
    cache,
    index: options.cache === undefined ? CacheIndex.load(cache.indexFile) : undefined,
    hasher: options.hasher ?? new FileHasher(new FingerprintMemo(cache.fingerprintsFile)),
    python: options.python,
  };
  const concurrency = options.concurrency ?? availableParallelism();
  const names = Object.keys(options.functions).sort(compareCodeUnits);
  const prepared = new Map<string, PreparedArtifact>();
  const failures: { name: string; error: unknown }[] = [];
  const stale: StaleNodeFunction[] = [];
  const others: string[] = [];
  for (const name of names) {
    const source = options.functions[name];
    if (source === undefined) continue;
    if (!isNodeRuntime(source.runtime)) {
      others.push(name);
      continue;
    }
    try {
      const plan = planNodeFunction(context, name, source);
      if ('kind' in plan) prepared.set(name, plan);
      else stale.push(plan);
    } catch (error) {
      failures.push({ name, error });
    }
  }
  // Python and provided functions are known to be new only once their files are read.
  let gateLoading = false;
  const loadGate = (): void => {
    if (gateLoading) return;
    gateLoading = true;
    options.beforeBundle?.();
  };
  if (stale.length > 0) loadGate();
  const zipper =
    options.zipper ??
    (stale.length + others.length >= 2 && concurrency >= 2
      ? adaptiveZipper(() => zipPool(concurrency))
      : inlineZipper());
  // A new artifact is zipped as soon as its files are there: the first bundles while esbuild makes the rest.
  const zips = new Map<string, Promise<Uint8Array>>();
  const records = new Map<string, ReturnType<FreshArtifact['record']>>();
  const take = (name: string, result: PreparedArtifact | StagecraftError): void => {
    if (result instanceof StagecraftError) {
      failures.push({ name, error: result });
      return;
    }
    prepared.set(name, result);
    if (result.kind !== 'fresh') return;
    // The inputs' fingerprints right after esbuild read them, not after the last call: an edit
    // meanwhile must not be recorded as what this artifact was built from.
    records.set(name, result.record());
    const zip = zipper.zip(result.entries);
    // Awaited by storeAll; a failure elsewhere first must not leave it rejected with no one listening.
    zip.catch(() => undefined);
    zips.set(name, zip);
  };
  try {
    await Promise.all([
      bundleNodeFunctions(context, stale, concurrency, take),
      forEachLimited(others, concurrency, async (name) => {
        try {
          const result = await prepareOther(context, name, options.functions[name] as FunctionSource);
          if (result.kind === 'fresh') loadGate();
          take(name, result);
        } catch (error) {
          failures.push({ name, error });
        }
      }),
    ]);
    const built = await storeAll(context, prepared, { zips, records }, failures, options.beforeWrite);
    context.hasher.save();
    context.index?.save();
    if (failures.length > 0) {
      const error = combine(failures.sort((a, b) => compareCodeUnits(a.name, b.name)));
      if (options.onFailure === undefined) throw error;
      options.onFailure(
        failures.map((failure) => failure.name),
        error,
      );
    }
    const result: Record<string, BuiltArtifact> = {};
    for (const name of names) {
      const artifact = built.get(name);
      if (artifact !== undefined) result[name] = artifact;
    }
    return result;
  } finally {
    if (zipper !== options.zipper) await zipper.close();
  }
}

/**
 * Runs the gate while the new artifacts' zips (started as each was prepared, with its record) are
 * made, then stores the artifacts and records them in the build cache. Everything is made in
 * memory first, so that the gate can stop the build before any write.
 */
async function storeAll(
  context: BuildContext,
  prepared: ReadonlyMap<string, PreparedArtifact>,
  made: {
    zips: ReadonlyMap<string, Promise<Uint8Array>>;
    records: ReadonlyMap<string, ReturnType<FreshArtifact['record']>>;
  },
  failures: { name: string; error: unknown }[],
  beforeWrite: BuildArtifactsOptions['beforeWrite'],
): Promise<Map<string, BuiltArtifact>> {
  const { zips, records } = made;
  const fresh = [...prepared].filter((entry): entry is [string, FreshArtifact] => entry[1].kind === 'fresh');
  // While the zips are made: the gate.
  if (beforeWrite)
    await beforeWrite([...new Set([...prepared.values()].flatMap((p) => p.sources))].sort(compareCodeUnits));
  const built = new Map<string, BuiltArtifact>();
  for (const [name, artifact] of prepared) {
    if (artifact.kind === 'cached') built.set(name, { ...artifact.artifact, cached: true, inputs: artifact.inputs });
  }
  await Promise.all(
    fresh.map(async ([name, artifact]) => {
      try {
        const stored = await context.store.putAsync(await (zips.get(name) as Promise<Uint8Array>));
        const sha256 = { sha256: stored.sha256, size: stored.size };
        const record = records.get(name);
        if (record !== undefined) {
          context.cache.save(name, { ...record, artifact: sha256 });
          context.index?.put(name, { ...record, artifact: sha256 });
        }
        built.set(name, { ...sha256, cached: false, inputs: artifact.inputs });
      } catch (error) {
        failures.push({ name, error });
      }
    }),
  );
  return built;
}

/** A python or provided function; other runtimes cannot be built. */
async function prepareOther(context: BuildContext, name: string, source: FunctionSource): Promise<PreparedArtifact> {
  if (isProvidedRuntime(source.runtime)) return prepareProvided(context, name, source);
  if (source.runtime.startsWith('python')) return preparePython(context, name, source);
  throw new StagecraftError('BUILD_FAILED', `Function "${name}": runtime "${source.runtime}" cannot be built.`, {
    hint: 'Use a nodejs* runtime (bundled with esbuild), a python3.x runtime or a provided* runtime with a code folder.',
  });
}

/** A provided function: its code folder, zipped as it is. Cached on the folder's whole listing. */
function prepareProvided(context: BuildContext, name: string, source: FunctionSource): PreparedArtifact {
  const folder = readCodeFolder(context.appDir, name, source.code);
  const key = cacheKey({ kind: 'provided', handler: source.handler, runtime: source.runtime, code: source.code });
  const inputs = Object.keys(folder.fingerprints).length;
  const sources = folder.entries.map((entry) => posix.join(source.code ?? '', entry.path));
  const artifact = cachedListing(context, name, key, folder.fingerprints);
  if (artifact !== undefined) return { kind: 'cached', sources, inputs, artifact };
  const record = { format: BUILD_FORMAT, key, inputs: folder.fingerprints, context: {} };
  return { kind: 'fresh', sources, inputs, entries: folder.entries, record: () => record };
}

/**
 * A python function: its source folder plus its installed requirements (the source wins where
 * both hold a path). Cached on the source listing and the requirements key, so an unchanged
 * function runs neither pip nor a zip.
 */
async function preparePython(context: BuildContext, name: string, source: FunctionSource): Promise<PreparedArtifact> {
  const { appDir } = context;
  const folder = readPythonSource(appDir, name, source.handler, source.code, source.package);
  const requirements = findRequirements(appDir, folder.root, source.handler, source.requirements);
  const toolchain = context.python;
  if (requirements !== undefined && toolchain === undefined) {
    throw new StagecraftError(
      'BUILD_FAILED',
      `Function "${name}" has requirements (${requirements}) but this build has no Python toolchain.`,
      {
        hint: 'Pass `python` to buildArtifacts (the CLI does).',
      },
    );
  }
  const deps =
    requirements === undefined || toolchain === undefined
      ? null
      : requirementsKey(appDir, requirements, source.runtime, toolchain);
  const key = cacheKey({
    kind: 'python',
    handler: source.handler,
    runtime: source.runtime,
    code: folder.root,
    package: source.package ?? null,
    requirements: requirements ?? null,
    deps,
    platform: toolchain?.platform ?? null,
  });
  const sources = folder.entries.map((entry) => posix.join(folder.root, entry.path));
  if (requirements !== undefined && !sources.includes(requirements)) sources.push(requirements);
  const inputs = Object.keys(folder.fingerprints).length;
  const artifact = cachedListing(context, name, key, folder.fingerprints);
  if (artifact !== undefined) return { kind: 'cached', sources, inputs, artifact };
  const files = new Map<string, ZipEntry>();
  if (requirements !== undefined && toolchain !== undefined) {
    const installed = await installRequirements(appDir, name, requirements, source.runtime, toolchain);
    for (const entry of dependencyEntries(installed.dir)) files.set(entry.path, entry);
  }
  for (const entry of folder.entries) files.set(entry.path, entry);
  const record = { format: BUILD_FORMAT, key, inputs: folder.fingerprints, context: {} };
  return { kind: 'fresh', sources, inputs, entries: [...files.values()], record: () => record };
}

/** One failure as it is; several as one error listing each function's problem. */
function combine(failures: readonly { name: string; error: unknown }[]): StagecraftError {
  const errors = failures.map(({ name, error }) =>
    isStagecraftError(error)
      ? error
      : new StagecraftError('BUILD_FAILED', `Function "${name}": ${(error as Error).message}`, { cause: error }),
  );
  const [first] = errors;
  if (errors.length === 1 && first !== undefined) return first;
  return new StagecraftError(
    'BUILD_FAILED',
    `${errors.length} functions failed to build: ${failures.map((f) => f.name).join(', ')}.`,
    {
      hint: first?.hint ?? 'Fix the errors listed and build again.',
      details: errors.map((error) => error.message),
      cause: first,
    },
  );
}

export interface ReleaseSource {
  /** sha256 of the manifest as the release was built from it. */
  manifestDigest: string;
  /** Function name → artifact sha256. */
  artifacts: Record<string, string>;
  /** null when the app is not in a git repository. */
  commit: string | null;
  dirty: boolean;
}

/**
 * The release's identity, sha256 over a canonical (key-sorted) JSON of what it is made of: the
 * same manifest, artifacts and commit always give the same digest, on any machine. The state
 * layer names the release `r<seq>-<first 8 hex digits>`.
 */
export function releaseDigest(source: ReleaseSource): string {
  return sha256Hex(
    stableStringify({
      manifestDigest: source.manifestDigest,
      artifacts: source.artifacts,
      commit: source.commit,
      dirty: source.dirty,
    }),
  );
}
