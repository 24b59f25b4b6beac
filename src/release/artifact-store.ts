/**
 * The content-addressed artifact store: `<app>/.stagecraft/artifacts/<sha256>.zip`. An artifact
 * is written once and never changes afterwards (DESIGN §5 invariant 1); every reader checks the
 * bytes against the name, so a file changed behind Stagecraft's back is caught, never deployed.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { StagecraftError } from '../errors.js';
import { sha256Hex } from '../digest.js';
import { digestFile, makeReadOnly, treeDigest, treeProblem, unsealTree } from './code-tree.js';
import { unzipTo } from './zip.js';

export interface StoredArtifact {
  sha256: string;
  size: number;
  /** Absolute path of `<sha256>.zip`. */
  path: string;
}

export interface ArtifactStoreDirs {
  /** Where `<sha256>.zip` files live. */
  artifactsDir: string;
  /** Where `extract` unpacks code for the local runtime: `<codeDir>/<sha256>/`. */
  codeDir: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

export class ArtifactStore {
  readonly artifactsDir: string;
  readonly codeDir: string;

  constructor(dirs: ArtifactStoreDirs) {
    this.artifactsDir = dirs.artifactsDir;
    this.codeDir = dirs.codeDir;
  }

  /** The store of an app: `<appDir>/.stagecraft/artifacts` and `<appDir>/.stagecraft/code`. */
  static forApp(appDir: string): ArtifactStore {
    return new ArtifactStore({
      artifactsDir: join(appDir, '.stagecraft', 'artifacts'),
      codeDir: join(appDir, '.stagecraft', 'code'),
    });
  }

  pathOf(sha256: string): string {
    return join(this.artifactsDir, `${checkSha(sha256)}.zip`);
  }

  has(sha256: string): boolean {
    return existsSync(this.pathOf(sha256));
  }

  /** Size on disk, or undefined when absent: a cheap check that does not read the bytes. */
  sizeOf(sha256: string): number | undefined {
    try {
      return statSync(this.pathOf(sha256)).size;
    } catch {
      return undefined;
    }
  }

  /**
   * Stores `zip` under its sha256. When that artifact exists already nothing is written: equal
   * names mean equal bytes, and rewriting would break invariant 1 for a moment.
   */
  put(zip: Uint8Array): StoredArtifact {
    const { sha256, path, exists } = this.placeOf(zip);
    if (exists) return { sha256, size: zip.length, path };
    mkdirSync(this.artifactsDir, { recursive: true });
    const temp = this.tempOf(sha256);
    // Read-only, and flushed before it gets its name, so a crash never leaves a short artifact.
    const fd = openSync(temp, 'wx', 0o444);
    try {
      for (let written = 0; written < zip.length;) written += writeSync(fd, zip, written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    publish(temp, path);
    return { sha256, size: zip.length, path };
  }

  /**
   * put(), with the write and its flush on libuv's threads: a build storing fifty artifacts waits
   * for their flushes side by side instead of one after another.
   */
  async putAsync(zip: Uint8Array): Promise<StoredArtifact> {
    const { sha256, path, exists } = this.placeOf(zip);
    if (exists) return { sha256, size: zip.length, path };
    await mkdir(this.artifactsDir, { recursive: true });
    const temp = this.tempOf(sha256);
    const file = await open(temp, 'wx', 0o444);
    try {
      await file.writeFile(zip);
      await file.sync();
    } finally {
      await file.close();
    }
    publish(temp, path);
    return { sha256, size: zip.length, path };
  }

  /** Where `zip` belongs, and whether it is there already (checked against its size). */
  private placeOf(zip: Uint8Array): { sha256: string; path: string; exists: boolean } {
    const sha256 = sha256Hex(zip);
    const path = this.pathOf(sha256);
    const existing = this.sizeOf(sha256);
    if (existing !== undefined && existing !== zip.length)
      throw corruptFile(path, `it holds ${existing} bytes where ${zip.length} were written`);
    return { sha256, path, exists: existing !== undefined };
  }

  private tempOf(sha256: string): string {
    return join(this.artifactsDir, `.tmp-${sha256}-${process.pid}-${randomBytes(4).toString('hex')}`);
  }

  /** The artifact's bytes, after checking they still hash to its name. */
  read(sha256: string): Uint8Array {
    const path = this.pathOf(sha256);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      throw new StagecraftError('ARTIFACT_CORRUPT', `Artifact ${sha256} is missing: cannot read ${path}.`, {
        hint: 'Run `stagecraft build` on the source of its release to write it again.',
        cause: error,
      });
    }
    const actual = sha256Hex(bytes);
    if (actual !== sha256) throw corruptFile(path, `its bytes now hash to ${actual}`);
    return bytes;
  }

  /** The sha256 of every stored artifact, sorted. */
  list(): string[] {
    if (!existsSync(this.artifactsDir)) return [];
    return readdirSync(this.artifactsDir)
      .filter((name) => name.endsWith('.zip') && SHA256.test(name.slice(0, -4)))
      .map((name) => name.slice(0, -4))
      .sort();
  }

  /**
   * The artifact unpacked into `<codeDir>/<sha256>/`, for the local runtime to run. Unpacked once
   * into a temporary folder that is then renamed, so the folder, once it exists, is complete.
   */
  extract(sha256: string, options: { onTampered?: (dir: string, problem: string) => void } = {}): string {
    const dir = join(this.codeDir, checkSha(sha256));
    if (existsSync(dir)) {
      const problem = treeProblem(dir);
      if (problem === undefined) return dir;
      // Never run what the artifact does not hold: unpack it again.
      options.onTampered?.(dir, problem);
      unsealTree(dir);
      rmSync(dir, { recursive: true, force: true });
      rmSync(digestFile(dir), { force: true });
    }
    const zip = this.read(sha256);
    mkdirSync(this.codeDir, { recursive: true });
    const temp = join(this.codeDir, `.tmp-${sha256}-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      unzipTo(zip, temp, { name: this.pathOf(sha256) });
      writeFileSync(digestFile(dir), `${treeDigest(temp)}\n`);
      makeReadOnly(temp);
      renameSync(temp, dir);
    } catch (error) {
      unsealTree(temp);
      rmSync(temp, { recursive: true, force: true });
      // Another process finished the same extraction first: its folder is just as good.
      if (isCode(error, 'ENOTEMPTY', 'EEXIST') && existsSync(dir)) return dir;
      throw error;
    }
    return dir;
  }
}

/** Every unpacked tree that does not match its recorded digest, for doctor. */
export function tamperedTrees(store: ArtifactStore): { sha256: string; dir: string; problem: string }[] {
  if (!existsSync(store.codeDir)) return [];
  return readdirSync(store.codeDir)
    .filter((name) => SHA256.test(name))
    .flatMap((sha256) => {
      const dir = join(store.codeDir, sha256);
      const problem = treeProblem(dir);
      return problem === undefined ? [] : [{ sha256, dir, problem }];
    });
}

/**
 * Gives `temp` its final name without ever replacing an existing file: link() fails when the
 * name is taken (a concurrent writer of the same artifact won), where rename() would overwrite.
 */
function publish(temp: string, path: string): void {
  try {
    linkSync(temp, path);
  } catch (error) {
    if (isCode(error, 'EEXIST')) {
      unlinkSync(temp);
      return;
    }
    // Some file systems (FAT, some network mounts) have no hard links: fall back to rename.
    if (isCode(error, 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'ENOSYS')) {
      renameSync(temp, path);
      return;
    }
    unlinkSync(temp);
    throw error;
  }
  unlinkSync(temp);
}

function checkSha(sha256: string): string {
  if (!SHA256.test(sha256)) {
    throw new StagecraftError(
      'ARTIFACT_CORRUPT',
      `"${sha256}" is not an artifact name: expected 64 lower-case hex digits.`,
      {
        hint: 'Pass the sha256 that `stagecraft build` or `stagecraft status` shows.',
      },
    );
  }
  return sha256;
}

function corruptFile(path: string, problem: string): StagecraftError {
  return new StagecraftError('ARTIFACT_CORRUPT', `Artifact ${path} has changed since it was written: ${problem}.`, {
    hint: 'Delete that file and run `stagecraft build` on the source of its release to write it again; never edit files under .stagecraft/.',
  });
}

function isCode(error: unknown, ...codes: string[]): boolean {
  return typeof error === 'object' && error !== null && codes.includes((error as NodeJS.ErrnoException).code ?? '');
}
