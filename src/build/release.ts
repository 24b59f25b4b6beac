/**
 * Building every function of an app into artifacts (reusing cached ones), and the digest that
 * identifies a release: the same manifest, artifacts and commit always give the same digest.
 */
import { availableParallelism } from 'node:os';
import { posix, resolve } from 'node:path';
import { StagecraftError, isStagecraftError } from '../errors.js';
import type { ArtifactStore } from './artifact-store.js';
import { bundleFunction, esbuildBundler, portableBundleOptions, resolveHandler, type Bundler } from './bundle.js';
import { BUILD_FORMAT, BuildCache, FileHasher, cacheKey, inputsUnchanged, type CacheEntry } from './cache.js';
import { sha256Hex, stableStringify } from '../digest.js';
import { compareCodeUnits } from './order.js';
import { installRequirements, requirementsKey, type PythonToolchain } from './pip.js';
import { isNodeRuntime, isProvidedRuntime, readCodeFolder } from './provided.js';
import { dependencyEntries, findRequirements, readPythonSource, type PythonPackage } from './python.js';
import { deterministicZip, type ZipEntry } from './zip.js';

export interface FunctionSource {
  /** `src/api.handler`: the file without extension, then the export. */
  handler: string;
  /** AWS runtime name: `nodejs22.x`, `provided.al2023`, … */
  runtime: string;
  /** provided* runtimes: the folder zipped as the artifact; python: the source folder. Relative to the app. */
  code?: string;
  /** python runtimes: globs (relative to the source folder) of the files that go in. */
  package?: PythonPackage;
  /** python runtimes: the requirements file, relative to the app (default: found beside the handler). */
  requirements?: string;
}

export interface BuildArtifactsOptions {
  appDir: string;
  functions: Record<string, FunctionSource>;
  store: ArtifactStore;
  /** Most functions bundled at once; default: the number of CPUs. */
  concurrency?: number;
  /** Default: esbuild. */
  bundler?: Bundler;
  /** Default: `<appDir>/.stagecraft/cache`. */
  cache?: BuildCache;
  /** Default: a fresh one, reading every file again; `dev` keeps one and forgets the files it saw change. */
  hasher?: FileHasher;
  /**
   * Called once with every source file the artifacts are made of (relative to the app), after
   * bundling and before anything is written: a throw stops the build with nothing written.
   * The credential scan runs here.
   */
  beforeWrite?: (sources: readonly string[]) => Promise<void>;
  /** How python functions find the interpreter that runs pip; needed only when there are some. */
  python?: PythonToolchain;
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

/** Everything one build shares between its functions. */
interface BuildContext {
  appDir: string;
  store: ArtifactStore;
  bundler: Bundler;
  cache: BuildCache;
  hasher: FileHasher;
  python: PythonToolchain | undefined;
}

/**
 * Builds every function into the store and returns its artifact, by function name (sorted).
 * When some fail, the others are still built (and cached); the failures are then thrown together.
 */
export async function buildArtifacts(options: BuildArtifactsOptions): Promise<Record<string, BuiltArtifact>> {
  const appDir = resolve(options.appDir);
  const context: BuildContext = {
    appDir,
    store: options.store,
    bundler: options.bundler ?? esbuildBundler(),
    cache: options.cache ?? BuildCache.forApp(appDir),
    hasher: options.hasher ?? new FileHasher(),
    python: options.python,
  };
  const names = Object.keys(options.functions).sort(compareCodeUnits);
  const prepared = new Map<string, PreparedArtifact>();
  const failures: { name: string; error: unknown }[] = [];
  await forEachLimited(names, options.concurrency ?? availableParallelism(), async (name) => {
    const source = options.functions[name];
    if (source === undefined) return;
    try {
      prepared.set(name, await prepareFunction(context, name, source));
    } catch (error) {
      failures.push({ name, error });
    }
  });
  // Everything is bundled in memory first, so that a gate can stop the build before any write.
  if (options.beforeWrite)
    await options.beforeWrite([...new Set([...prepared.values()].flatMap((p) => p.sources))].sort(compareCodeUnits));
  const built = new Map<string, BuiltArtifact>();
  for (const name of names) {
    const artifact = prepared.get(name);
    if (artifact !== undefined) built.set(name, artifact.write());
  }
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
}

/** A function bundled (or found in the cache) but not yet stored. */
interface PreparedArtifact {
  /** The files it is made of, relative to the app. */
  sources: string[];
  /** Stores the artifact (unless cached) and records it in the build cache. */
  write(): BuiltArtifact;
}

async function prepareFunction(context: BuildContext, name: string, source: FunctionSource): Promise<PreparedArtifact> {
  if (isProvidedRuntime(source.runtime)) return prepareProvided(context, name, source);
  if (source.runtime.startsWith('python')) return preparePython(context, name, source);
  if (!isNodeRuntime(source.runtime)) {
    throw new StagecraftError('BUILD_FAILED', `Function "${name}": runtime "${source.runtime}" cannot be built.`, {
      hint: 'Use a nodejs* runtime (bundled with esbuild), a python3.x runtime or a provided* runtime with a code folder.',
    });
  }
  if (source.code !== undefined) {
    throw new StagecraftError(
      'BUILD_FAILED',
      `Function "${name}": a code folder is only for provided* runtimes; ${source.runtime} functions are bundled from their handler.`,
      {
        hint: `Remove functions.${name}.code, or switch the function to a provided* runtime.`,
      },
    );
  }
  const { appDir, store, bundler, cache, hasher } = context;
  const target = resolveHandler(appDir, name, source.handler);
  const key = cacheKey({
    kind: 'node',
    handler: source.handler,
    runtime: source.runtime,
    entry: target.file,
    bundler: bundler.version,
    options: portableBundleOptions(),
  });
  const known = cache.load(name, key);
  if (known !== undefined && inputsUnchanged(appDir, known, hasher) && stillStored(store, known)) {
    return {
      sources: Object.keys(known.inputs),
      write: () => ({ ...known.artifact, cached: true, inputs: Object.keys(known.inputs).length }),
    };
  }
  const bundled = await bundleFunction(appDir, name, target, bundler);
  const inputs: Record<string, string> = {};
  let settled = true;
  for (const [path, bytes] of Object.entries(bundled.inputs)) {
    const fingerprint = hasher.fingerprint(resolve(appDir, path));
    // A file whose size is not what esbuild read was edited during the build: recording its new
    // hash would pin an artifact of the old content, so this build is not cached.
    if (fingerprint === null || fingerprint.size !== bytes) settled = false;
    inputs[path] = fingerprint?.sha256 ?? '';
  }
  return {
    sources: Object.keys(bundled.inputs),
    write() {
      const stored = store.put(deterministicZip(bundled.entries));
      const artifact = { sha256: stored.sha256, size: stored.size };
      if (settled) cache.save(name, { format: BUILD_FORMAT, key, inputs, context: hasher.context(appDir), artifact });
      return { ...artifact, cached: false, inputs: Object.keys(inputs).length };
    },
  };
}

/** A provided function: its code folder, zipped as it is. Cached on the folder's whole listing. */
function prepareProvided(context: BuildContext, name: string, source: FunctionSource): PreparedArtifact {
  const { appDir, store, cache } = context;
  const folder = readCodeFolder(appDir, name, source.code);
  const key = cacheKey({ kind: 'provided', handler: source.handler, runtime: source.runtime, code: source.code });
  const inputs = Object.keys(folder.fingerprints).length;
  const sources = folder.entries.map((entry) => posix.join(source.code ?? '', entry.path));
  const known = cache.load(name, key);
  // The listing is compared whole: a file added to the folder changes the zip as surely as an edit.
  if (
    known !== undefined &&
    stableStringify(known.inputs) === stableStringify(folder.fingerprints) &&
    stillStored(store, known)
  ) {
    return { sources, write: () => ({ ...known.artifact, cached: true, inputs }) };
  }
  return {
    sources,
    write() {
      const stored = store.put(deterministicZip(folder.entries));
      const artifact = { sha256: stored.sha256, size: stored.size };
      cache.save(name, { format: BUILD_FORMAT, key, inputs: folder.fingerprints, context: {}, artifact });
      return { ...artifact, cached: false, inputs };
    },
  };
}

/**
 * A python function: its source folder plus its installed requirements (the source wins where
 * both hold a path). Cached on the source listing and the requirements key, so an unchanged
 * function runs neither pip nor a zip.
 */
async function preparePython(context: BuildContext, name: string, source: FunctionSource): Promise<PreparedArtifact> {
  const { appDir, store, cache } = context;
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
  const known = cache.load(name, key);
  if (
    known !== undefined &&
    stableStringify(known.inputs) === stableStringify(folder.fingerprints) &&
    stillStored(store, known)
  ) {
    return { sources, write: () => ({ ...known.artifact, cached: true, inputs }) };
  }
  const files = new Map<string, ZipEntry>();
  if (requirements !== undefined && toolchain !== undefined) {
    const installed = await installRequirements(appDir, name, requirements, source.runtime, toolchain);
    for (const entry of dependencyEntries(installed.dir)) files.set(entry.path, entry);
  }
  for (const entry of folder.entries) files.set(entry.path, entry);
  return {
    sources,
    write() {
      const stored = store.put(deterministicZip([...files.values()]));
      const artifact = { sha256: stored.sha256, size: stored.size };
      cache.save(name, { format: BUILD_FORMAT, key, inputs: folder.fingerprints, context: {}, artifact });
      return { ...artifact, cached: false, inputs };
    },
  };
}

/** The cached artifact is still in the store, at its size (reading and hashing it is left to deploys). */
function stillStored(store: ArtifactStore, entry: CacheEntry): boolean {
  return store.sizeOf(entry.artifact.sha256) === entry.artifact.size;
}

/** Runs `work` on every item, at most `limit` at a time. */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
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
