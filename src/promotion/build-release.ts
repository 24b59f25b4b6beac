/**
 * `build`: bundle every function once into content-addressed artifacts and record the release.
 * The same sources, manifest and commit always give the same release (the digest names it);
 * unchanged functions come from the build cache without being bundled again.
 */
import { join, relative } from 'node:path';
import {
  buildArtifacts,
  type BuildCache,
  credentialError,
  type Bundler,
  type FileHasher,
  type LintFinding,
  type PythonToolchain,
  gitSource,
  loadScanner,
  type GitSource,
  releaseDigest,
  scanForCredentials,
  type AllowedCredential,
  type Zipper,
} from '../release/index.js';
import type { StagecraftError } from '../errors.js';
import { choosePythonBinary, probePython } from '../runtime/index.js';
import type { Release } from '../state/index.js';
import type { AppContext } from './context.js';

export interface BuiltFunction {
  function: string;
  sha256: string;
  size: number;
  cached: boolean;
}

export interface BuildResult {
  release: Release;
  /** False when these exact inputs were built before: the existing release is returned. */
  created: boolean;
  functions: BuiltFunction[];
  /** Credential-scan findings let through by an allow comment or credentials.allow, as recorded in the release. */
  allowedCredentials: AllowedCredential[];
  /** How many files the credential scan read. */
  scannedFiles: number;
  /** With `fallback`: the functions that failed to build and kept their artifact, and why. */
  failed?: { functions: string[]; error: StagecraftError };
}

/**
 * With shared state, the release another runner will promote by its id: its artifacts go to the
 * provider's store at build time (a CI pipeline's later steps start from a fresh clone with no
 * local artifacts). Returns how many it stored; none without shared state or a platform store.
 */
export async function shareRelease(
  ctx: Pick<AppContext, 'provider' | 'sharedReleases'>,
  release: Release,
): Promise<number> {
  const store = ctx.provider.storeArtifact?.bind(ctx.provider);
  if (!ctx.sharedReleases || !store) return 0;
  for (const fn of release.functions) await store(fn.sha256, fn.function);
  return release.functions.length;
}

export interface BuildReleaseOptions {
  /** Default: a fresh esbuild per build; `dev` passes long-lived incremental contexts. */
  bundler?: Bundler;
  /** Default: a fresh one; `dev` keeps one across builds. */
  hasher?: FileHasher;
  /** Default: the app's cache on disk; `dev` keeps its entries in memory. */
  cache?: BuildCache;
  /** The credential scan's findings per file content, kept across builds by `dev`. */
  scanMemo?: Map<string, LintFinding[]>;
  /** Progress lines for people; `dev` says its own. */
  quiet?: boolean;
  /** The commit and whether the tree is dirty, when the caller looked already (`dev`, while it bundles). */
  source?: Promise<GitSource | null>;
  /**
   * `dev`: the artifact each function has live. A function that fails to build keeps it, so the
   * others still go live; such a release is not what the tree builds, so it is recorded dirty.
   */
  fallback?: ReadonlyMap<string, { sha256: string; size: number }>;
  /** Filled with how long each step took, in ms (`dev` reports them). */
  timings?: BuildTimings;
  /** Default: workers for this build when it zips two artifacts or more; `dev` keeps its own. */
  zipper?: Zipper;
  /** Settles when `ctx.actor` can be read without running git on Node's thread (`build` prefetches it). */
  actorReady?: Promise<void>;
}

/** Where a build's time went: bundling and cache checks, the credential scan, zip and store, git, the record. */
export interface BuildTimings {
  bundleMs?: number;
  scanMs?: number;
  writeMs?: number;
  gitMs?: number;
  recordMs?: number;
}

export async function buildRelease(
  ctx: Pick<AppContext, 'loaded' | 'store' | 'artifacts' | 'actor' | 'report'>,
  options: BuildReleaseOptions = {},
): Promise<BuildResult> {
  const { manifest, appDir, digest: manifestDigest } = ctx.loaded;
  const functions = Object.fromEntries(
    Object.entries(manifest.functions).map(([name, fn]) => [
      name,
      {
        handler: fn.handler,
        runtime: fn.runtime ?? manifest.runtime,
        ...(fn.code === undefined ? {} : { code: fn.code }),
        ...(fn.package === undefined ? {} : { package: fn.package }),
        ...(fn.requirements === undefined ? {} : { requirements: fn.requirements }),
      },
    ]),
  );
  if (options.quiet !== true)
    ctx.report.progress(`building ${Object.keys(functions).length} function(s) of ${manifest.app}`);
  // git runs in processes of its own while the functions are bundled (`dev` starts it earlier still).
  const gitState = options.source ?? gitSource(appDir);
  // The credential gate: after bundling, before anything is written (src/release/credential-scan.ts).
  let scan: Awaited<ReturnType<typeof scanForCredentials>> | undefined;
  const timings = options.timings ?? {};
  let mark = performance.now();
  const lap = (): number => {
    const now = performance.now();
    const ms = now - mark;
    mark = now;
    return Math.round(ms * 10) / 10;
  };
  let failed: BuildResult['failed'];
  const fallback = options.fallback;
  const artifacts: Record<string, { sha256: string; size: number; cached: boolean }> = await buildArtifacts({
    appDir,
    functions,
    store: ctx.artifacts,
    python: pythonToolchain(manifest.provider === 'aws'),
    ...(options.bundler ? { bundler: options.bundler } : {}),
    ...(options.hasher ? { hasher: options.hasher } : {}),
    ...(options.cache ? { cache: options.cache } : {}),
    ...(options.zipper ? { zipper: options.zipper } : {}),
    beforeBundle: () => {
      // A failure to load shows where the scan awaits it.
      loadScanner().catch(() => undefined);
    },
    beforeWrite: async (sources) => {
      timings.bundleMs = lap();
      scan = await scanForCredentials({
        root: appDir,
        files: sources,
        manifest: relative(appDir, ctx.loaded.file),
        allow: manifest.credentials?.allow ?? [],
        cacheFile: join(appDir, '.stagecraft', 'cache', 'credential-scan.json'),
        ...(options.scanMemo ? { memo: options.scanMemo } : {}),
      });
      timings.scanMs = lap();
      if (scan.findings.length > 0) throw credentialError(scan.findings);
    },
    ...(fallback === undefined
      ? {}
      : {
          onFailure: (functions: string[], error: StagecraftError) => {
            if (functions.some((name) => !fallback.has(name))) throw error;
            failed = { functions, error };
          },
        }),
  });
  for (const name of failed?.functions ?? []) {
    const kept = fallback?.get(name);
    if (kept) artifacts[name] = { ...kept, cached: true };
  }
  timings.writeMs = lap();
  const allowedCredentials = scan?.allowed ?? [];
  for (const allowed of allowedCredentials)
    ctx.report.warn(
      `credential scan: ${allowed.file}:${allowed.line} ${allowed.rule} let through by ${allowed.allowedBy}: ${allowed.reason}`,
    );
  const [source] = await Promise.all([gitState, options.actorReady]);
  timings.gitMs = lap();
  const commit = source?.commit ?? null;
  const dirty = (source?.dirty ?? false) || failed !== undefined;
  const digest = releaseDigest({
    manifestDigest,
    artifacts: Object.fromEntries(Object.entries(artifacts).map(([name, built]) => [name, built.sha256])),
    commit,
    dirty,
  });
  const { release, created } = ctx.store.transaction(() =>
    ctx.store.releases.record(
      {
        digest,
        manifestDigest,
        manifest,
        commit,
        dirty,
        allowedCredentials,
        functions: Object.entries(artifacts).map(([name, built]) => ({
          function: name,
          sha256: built.sha256,
          size: built.size,
          runtime: functions[name]?.runtime ?? manifest.runtime,
          handler: manifest.functions[name]?.handler ?? '',
        })),
      },
      ctx.actor,
    ),
  );
  timings.recordMs = lap();
  return {
    release,
    created,
    allowedCredentials: release.allowedCredentials,
    scannedFiles: scan?.files ?? 0,
    ...(failed ? { failed } : {}),
    functions: Object.entries(artifacts)
      .map(([name, built]) => ({ function: name, sha256: built.sha256, size: built.size, cached: built.cached }))
      .sort((a, b) => (a.function < b.function ? -1 : a.function > b.function ? 1 : 0)),
  };
}

/**
 * How a build runs pip: on the interpreter the local runtime would choose for the function's
 * runtime. An app that deploys to AWS takes manylinux wheels only, so native code matches Lambda's.
 */
function pythonToolchain(forLambda: boolean): PythonToolchain {
  const chosen = new Map<string, { path: string; version: string }>();
  return {
    interpreter(runtime) {
      let found = chosen.get(runtime);
      if (found === undefined) {
        const path = choosePythonBinary(runtime).path;
        found = { path, version: (probePython(path)?.version ?? '').split('.').slice(0, 2).join('.') };
        chosen.set(runtime, found);
      }
      return found;
    },
    ...(forLambda ? { platform: 'manylinux2014_x86_64' as const } : {}),
  };
}
