/** What each function's build step hands the release: a cached artifact, or the files of a new one. */
import { stableStringify } from '../digest.js';
import type { ArtifactStore } from './artifact-store.js';
import type { Bundler } from './bundle.js';
import type { CacheIndex } from './cache-index.js';
import type { BuildCache, CacheEntry, FileHasher } from './cache.js';
import type { PythonToolchain } from './pip.js';
import type { PythonPackage } from './python.js';
import type { ZipEntry } from './zip.js';

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

/** Everything one build shares between its functions. */
export interface BuildContext {
  appDir: string;
  store: ArtifactStore;
  bundler: Bundler;
  cache: BuildCache;
  /** A one-shot build's shortcut to the cache's verdict; `dev` keeps its entries in memory instead. */
  index: CacheIndex | undefined;
  hasher: FileHasher;
  python: PythonToolchain | undefined;
}

export interface CachedArtifact {
  kind: 'cached';
  /** The files it is made of, relative to the app. */
  sources: string[];
  /** How many source files went into it. */
  inputs: number;
  artifact: { sha256: string; size: number };
}

export interface FreshArtifact {
  kind: 'fresh';
  sources: string[];
  inputs: number;
  /** The files to zip. */
  entries: ZipEntry[];
  /**
   * What the build cache records with the artifact once it is stored; undefined when it must not
   * be cached (a source changed while it was read). Called once, as soon as it is bundled.
   */
  record(): Omit<CacheEntry, 'artifact'> | undefined;
}

export type PreparedArtifact = CachedArtifact | FreshArtifact;

/** The cached artifact is still in the store, at its size (reading and hashing it is left to deploys). */
export function stillStored(store: ArtifactStore, entry: Pick<CacheEntry, 'artifact'>): boolean {
  return store.sizeOf(entry.artifact.sha256) === entry.artifact.size;
}

/**
 * The artifact an earlier build made of exactly this folder listing (provided and Python functions),
 * while the store still holds it. The listing is compared whole: a file added to the folder changes
 * the zip as surely as an edit.
 */
export function cachedListing(
  context: Pick<BuildContext, 'store' | 'cache'>,
  name: string,
  key: string,
  fingerprints: Record<string, string>,
): CachedArtifact['artifact'] | undefined {
  const known = context.cache.load(name, key);
  return known !== undefined &&
    stableStringify(known.inputs) === stableStringify(fingerprints) &&
    stillStored(context.store, known)
    ? known.artifact
    : undefined;
}
