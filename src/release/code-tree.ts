/**
 * An unpacked artifact (`.stagecraft/code/<sha256>/`) is checked against a digest of the tree
 * written when it was unpacked (`<sha256>.tree`, beside it): an edit there is noticed, reported
 * by doctor and undone by unpacking again, never run. The tree is made read-only, like Lambda's
 * /var/task.
 */
import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';

/** sha256 over every entry's relative path, kind, executable bit and bytes, in sorted order. */
export function treeDigest(dir: string): string {
  const hash = createHash('sha256');
  const walk = (relative: string): void => {
    for (const name of readdirSync(join(dir, relative)).sort()) {
      const path = join(relative, name);
      const stat = lstatSync(join(dir, path));
      if (stat.isDirectory()) {
        hash.update(`d ${path}\0`);
        walk(path);
      } else if (stat.isSymbolicLink()) {
        hash.update(`l ${path} ${readlinkSync(join(dir, path))}\0`);
      } else {
        hash.update(`f ${path} ${stat.mode & 0o111 ? 'x' : '-'} ${stat.size}\0`);
        hash.update(readFileSync(join(dir, path)));
      }
    }
  };
  walk('');
  return hash.digest('hex');
}

export function digestFile(dir: string): string {
  return `${dir}.tree`;
}

/** Makes an unpacked tree read-only, as Lambda's /var/task is. */
export function makeReadOnly(dir: string): void {
  setModes(dir, false);
}

/** Makes a tree writable again, so that it can be removed and unpacked anew. */
export function unsealTree(dir: string): void {
  if (existsSync(dir)) setModes(dir, true);
}

/** Undefined when the tree matches its recorded digest; else what is wrong with it. */
export function treeProblem(dir: string): string | undefined {
  if (!existsSync(digestFile(dir)))
    return 'it has no recorded digest (unpacked by an older Stagecraft, or the digest was removed)';
  const recorded = readFileSync(digestFile(dir), 'utf8').trim();
  const actual = treeDigest(dir);
  return recorded === actual ? undefined : 'its files were changed after it was unpacked';
}

function setModes(dir: string, writable: boolean): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) continue;
    if (stat.isDirectory()) {
      if (writable) chmodSync(path, 0o755);
      setModes(path, writable);
      if (!writable) chmodSync(path, 0o555);
    } else {
      const executable = (stat.mode & 0o111) !== 0;
      chmodSync(path, writable ? (executable ? 0o755 : 0o644) : executable ? 0o555 : 0o444);
    }
  }
  chmodSync(dir, writable ? 0o755 : 0o555);
}
