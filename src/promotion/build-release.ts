/**
 * `build`: bundle every function once into content-addressed artifacts and record the release.
 * The same sources, manifest and commit always give the same release (the digest names it);
 * unchanged functions come from the build cache without being bundled again.
 */
import { join, relative } from 'node:path';
import {
  buildArtifacts,
  credentialError,
  type Bundler,
  type FileHasher,
  type LintFinding,
  type PythonToolchain,
  gitSource,
  releaseDigest,
  scanForCredentials,
  type AllowedCredential,
} from '../build/index.js';
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
  /** The credential scan's findings per file content, kept across builds by `dev`. */
  scanMemo?: Map<string, LintFinding[]>;
  /** Progress lines for people; `dev` says its own. */
  quiet?: boolean;
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
  // git runs in processes of its own while the functions are bundled.
  const gitState = gitSource(appDir);
  // The credential gate: after bundling, before anything is written (src/build/credential-scan.ts).
  let scan: Awaited<ReturnType<typeof scanForCredentials>> | undefined;
  const artifacts = await buildArtifacts({
    appDir,
    functions,
    store: ctx.artifacts,
    python: pythonToolchain(manifest.provider === 'aws'),
    ...(options.bundler ? { bundler: options.bundler } : {}),
    ...(options.hasher ? { hasher: options.hasher } : {}),
    beforeWrite: async (sources) => {
      scan = await scanForCredentials({
        root: appDir,
        files: sources,
        manifest: relative(appDir, ctx.loaded.file),
        allow: manifest.credentials?.allow ?? [],
        cacheFile: join(appDir, '.stagecraft', 'cache', 'credential-scan.json'),
        ...(options.scanMemo ? { memo: options.scanMemo } : {}),
      });
      if (scan.findings.length > 0) throw credentialError(scan.findings);
    },
  });
  const allowedCredentials = scan?.allowed ?? [];
  for (const allowed of allowedCredentials)
    ctx.report.warn(
      `credential scan: ${allowed.file}:${allowed.line} ${allowed.rule} let through by ${allowed.allowedBy}: ${allowed.reason}`,
    );
  const source = await gitState;
  const commit = source?.commit ?? null;
  const dirty = source?.dirty ?? false;
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
  return {
    release,
    created,
    allowedCredentials: release.allowedCredentials,
    scannedFiles: scan?.files ?? 0,
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
