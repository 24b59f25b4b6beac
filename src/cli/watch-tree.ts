/**
 * Watches every folder of a tree, one non-recursive watch each. Node 20's recursive watch on
 * Linux lost top-level files that `sed -i` or `git checkout` replace by rename (seen on 20.20);
 * a folder's own watch sees every entry in it, replaced or not.
 */
import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

export interface TreeWatch {
  close(): void;
}

/** Calls `onChange` with the path (relative to `root`, `/`-separated) of each entry that changes. */
export function watchTree(
  root: string,
  ignored: (path: string) => boolean,
  onChange: (path: string) => void,
): TreeWatch {
  const watchers = new Map<string, FSWatcher>();
  const add = (relative: string): void => {
    if (watchers.has(relative) || (relative !== '' && ignored(relative))) return;
    const folder = join(root, relative);
    let watcher: FSWatcher;
    try {
      watcher = watch(folder, (_type, name) => {
        if (name === null) return;
        const path = relative === '' ? name.toString() : `${relative}/${name.toString()}`;
        if (ignored(path)) return;
        if (isFolder(join(root, path))) add(path);
        onChange(path);
      });
    } catch {
      return; // removed before it could be watched
    }
    // A folder removed later ends its watch with an error; that is not the app's problem.
    watcher.on('error', () => {
      watcher.close();
      watchers.delete(relative);
    });
    watchers.set(relative, watcher);
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.isDirectory()) add(relative === '' ? entry.name : `${relative}/${entry.name}`);
    }
  };
  add('');
  return {
    close: () => {
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
