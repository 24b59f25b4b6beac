/**
 * What `stagecraft build` makes of an app: deterministic bundles, content-addressed artifacts, an
 * input-keyed cache, and the digest that names a release. This file is the folder's only door.
 */
export { ArtifactStore, tamperedTrees, type ArtifactStoreDirs, type StoredArtifact } from './artifact-store.js';
export { esbuildBundler, type Bundler, type BundleOptions, type BundleOutput } from './bundle.js';
export { incrementalBundler, MemoryBuildCache, type IncrementalBundler } from './incremental.js';
export { BuildCache, BUILD_FORMAT, FileHasher } from './cache.js';
export {
  scanForCredentials,
  credentialError,
  isScannedSource,
  loadScanner,
  shortRule,
  ALLOW_MARKER,
  CONFIG_LITERAL_RULE,
  type CredentialScan,
  type CredentialFinding,
  type LintFinding,
  type CredentialScanOptions,
  type AllowedCredential,
} from './credential-scan.js';
export { gitBranch, gitLog, gitSource, type GitSource } from './git.js';
export {
  buildArtifacts,
  releaseDigest,
  type BuildArtifactsOptions,
  type BuiltArtifact,
  type FunctionSource,
  type ReleaseSource,
} from './release.js';
export type { PythonToolchain } from './pip.js';
export { deterministicZip, unzipTo, type UnzipOptions, type ZipEntry } from './zip.js';
export { forEachLimited } from './concurrency.js';
export { zipPool, type Zipper } from './zip-pool.js';
