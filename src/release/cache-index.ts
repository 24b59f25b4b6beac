/**
 * Every Node function's cache entry in one file, each input path and context listed once: a
 * build where one function changed checks the other forty-nine without parsing forty-nine JSON
 * files and looking up each shared input (zod, the AWS SDK) once per function that bundles it.
 *
 * The per-function entries (src/release/cache.ts) stay the record; this index is only a faster way
 * to reach the same verdict. An indexed entry is one the build verified or recorded, with the
 * content each input had then; it is trusted only while every input still has that content, as
 * the file hasher says. A missing, unreadable or outdated index costs the slower check, never a
 * wrong artifact.
 */
import { readFileSync } from 'node:fs';
import { replaceCacheFile } from '../replace-file.js';
import { BUILD_FORMAT, CONTEXT_FILES, type CacheEntry, type FileHasher } from './cache.js';
import { compareCodeUnits } from './order.js';

/** Bump when the layout of the file changes. */
const INDEX_FORMAT = 1;

type Context = CacheEntry['context'];

interface IndexedFunction {
  key: string;
  artifact: CacheEntry['artifact'];
  /** Indexes into `paths` and `shas`. */
  inputs: number[];
  /** Index into `contexts`. */
  context: number;
}

interface IndexFile {
  format: number;
  build: number;
  /** Input paths relative to the app, as the metafile names them, and the sha256 each had. */
  paths: string[];
  shas: string[];
  contexts: Context[];
  functions: Record<string, IndexedFunction>;
}

/** A function the index vouches for: its artifact and the files it is made of. */
export interface IndexedArtifact {
  artifact: CacheEntry['artifact'];
  sources: string[];
}

export class CacheIndex {
  private readonly saved: IndexFile;
  /** Per path index: 1 when the file still has the indexed content, 2 when not; checked once per build. */
  private readonly checked: Uint8Array;
  private readonly contextChecked: Uint8Array;
  /** What the next index holds: an indexed function kept as it is, or an entry this build verified or wrote. */
  private readonly next = new Map<string, IndexedFunction | CacheEntry>();
  /** The functions that consult the index (Node's): only they are indexed. */
  private readonly asked = new Set<string>();

  private constructor(
    private readonly file: string,
    saved: IndexFile | undefined,
  ) {
    this.saved = saved ?? {
      format: INDEX_FORMAT,
      build: BUILD_FORMAT,
      paths: [],
      shas: [],
      contexts: [],
      functions: {},
    };
    this.checked = new Uint8Array(this.saved.paths.length);
    this.contextChecked = new Uint8Array(this.saved.contexts.length);
  }

  /** The index in `file`; an empty one when there is none or it cannot be trusted. */
  static load(file: string): CacheIndex {
    let saved: IndexFile | undefined;
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (isIndexFile(parsed)) saved = parsed;
    } catch {
      // None yet, or unreadable: every function takes the per-function check.
    }
    return new CacheIndex(file, saved);
  }

  /** The function's artifact when it was indexed with this key and every input still has its content. */
  lookup(appDir: string, name: string, key: string, hasher: FileHasher): IndexedArtifact | undefined {
    this.asked.add(name);
    const indexed = this.indexed(name);
    if (indexed === undefined || indexed.key !== key) return undefined;
    if (!this.contextUnchanged(appDir, indexed.context, hasher)) return undefined;
    const { paths, shas } = this.saved;
    for (const id of indexed.inputs) {
      let state = this.checked[id];
      if (state === 0) {
        state = hasher.input(appDir, paths[id] as string)?.sha256 === shas[id] ? 1 : 2;
        this.checked[id] = state;
      }
      if (state !== 1) return undefined;
    }
    return { artifact: indexed.artifact, sources: indexed.inputs.map((id) => paths[id] as string) };
  }

  /** The function looked up is used as indexed (its artifact is still stored): the next index keeps it. */
  keep(name: string): void {
    const indexed = this.indexed(name);
    if (indexed !== undefined) this.next.set(name, indexed);
  }

  /** An entry this build verified or recorded the slower way, for the next index (if the function consults it). */
  put(name: string, entry: CacheEntry): void {
    if (this.asked.has(name)) this.next.set(name, entry);
  }

  /**
   * Writes the index of this build's functions, when it differs from the one loaded. The loaded
   * table is the start: a function kept as indexed keeps its numbers, and only the entries this
   * build wrote are looked up by path. An entry that has an input with other content than a kept
   * function verified is left out: it would be checked against the wrong content.
   */
  save(): void {
    const next = [...this.next].sort(([a], [b]) => compareCodeUnits(a, b));
    const wrote = next.some(([, entry]) => isCacheEntry(entry));
    if (!wrote && next.length === Object.keys(this.saved.functions).length) return;
    const paths = [...this.saved.paths];
    const shas = [...this.saved.shas];
    // 1: the slot holds content this build saw (a kept function verified it, or an entry wrote it).
    const settled = Array.from(this.checked, (state) => (state === 1 ? 1 : 0));
    const contexts = [...this.saved.contexts];
    let ids: Map<string, number> | undefined;
    let contextIds: Map<string, number> | undefined;
    const idOf = (path: string, sha: string): number | undefined => {
      ids ??= new Map(paths.map((known, id) => [known, id]));
      const id = ids.get(path);
      if (id === undefined) {
        ids.set(path, paths.length);
        paths.push(path);
        shas.push(sha);
        settled.push(1);
        return paths.length - 1;
      }
      if (shas[id] === sha) return id;
      // Content no kept function relies on (it changed, or nothing checked it) is replaced.
      if (settled[id] === 1) return undefined;
      shas[id] = sha;
      settled[id] = 1;
      return id;
    };
    const contextOf = (context: Context): number => {
      const keyOf = (one: Context): string => JSON.stringify(CONTEXT_FILES.map((name) => one[name] ?? null));
      contextIds ??= new Map(contexts.map((known, id) => [keyOf(known), id]));
      const key = keyOf(context);
      let id = contextIds.get(key);
      if (id === undefined) {
        id = contexts.length;
        contextIds.set(key, id);
        contexts.push(context);
      }
      return id;
    };
    const functions: Record<string, IndexedFunction> = {};
    for (const [name, entry] of next) {
      if (!isCacheEntry(entry)) {
        functions[name] = entry;
        continue;
      }
      const inputs = Object.entries(entry.inputs).map(([path, sha]) => idOf(path, sha));
      if (inputs.some((id) => id === undefined)) continue;
      functions[name] = {
        key: entry.key,
        artifact: entry.artifact,
        inputs: inputs as number[],
        context: contextOf(entry.context),
      };
    }
    replaceCacheFile(
      this.file,
      JSON.stringify(compact({ format: INDEX_FORMAT, build: BUILD_FORMAT, paths, shas, contexts, functions })),
    );
  }

  /** The function's entry in the loaded index (an own key: a function may be named `constructor`). */
  private indexed(name: string): IndexedFunction | undefined {
    return Object.hasOwn(this.saved.functions, name) ? this.saved.functions[name] : undefined;
  }

  private contextUnchanged(appDir: string, id: number, hasher: FileHasher): boolean {
    if (this.contextChecked[id] === 0) {
      const now = hasher.context(appDir);
      const indexed = this.saved.contexts[id] as Context;
      this.contextChecked[id] = CONTEXT_FILES.every((name) => (indexed[name] ?? null) === now[name]) ? 1 : 2;
    }
    return this.contextChecked[id] === 1;
  }
}

function isCacheEntry(entry: IndexedFunction | CacheEntry): entry is CacheEntry {
  return 'format' in entry;
}

/** Drops the paths and contexts no function refers to any more, numbering the rest anew. */
function compact(index: IndexFile): IndexFile {
  const functions = Object.values(index.functions);
  const used = new Uint8Array(index.paths.length);
  const usedContexts = new Uint8Array(index.contexts.length);
  for (const fn of functions) {
    for (const id of fn.inputs) used[id] = 1;
    usedContexts[fn.context] = 1;
  }
  if (used.every((one) => one === 1) && usedContexts.every((one) => one === 1)) return index;
  const renumber = (marks: Uint8Array): Int32Array => {
    const numbers = new Int32Array(marks.length);
    let next = 0;
    for (let id = 0; id < marks.length; id += 1) numbers[id] = marks[id] === 1 ? next++ : -1;
    return numbers;
  };
  const paths = renumber(used);
  const contexts = renumber(usedContexts);
  return {
    ...index,
    paths: index.paths.filter((_, id) => used[id] === 1),
    shas: index.shas.filter((_, id) => used[id] === 1),
    contexts: index.contexts.filter((_, id) => usedContexts[id] === 1),
    functions: Object.fromEntries(
      Object.entries(index.functions).map(([name, fn]) => [
        name,
        { ...fn, inputs: fn.inputs.map((id) => paths[id] as number), context: contexts[fn.context] as number },
      ]),
    ),
  };
}

/** Shape and bounds, so that a damaged index is dropped rather than trusted. */
function isIndexFile(value: unknown): value is IndexFile {
  if (typeof value !== 'object' || value === null) return false;
  const index = value as Partial<IndexFile>;
  if (index.format !== INDEX_FORMAT || index.build !== BUILD_FORMAT) return false;
  const { paths, shas, contexts, functions } = index;
  if (!Array.isArray(paths) || !Array.isArray(shas) || !Array.isArray(contexts)) return false;
  if (paths.length !== shas.length || typeof functions !== 'object' || functions === null) return false;
  if (!paths.every((path) => typeof path === 'string') || !shas.every((sha) => typeof sha === 'string')) return false;
  if (!contexts.every((context) => typeof context === 'object' && context !== null)) return false;
  return Object.values(functions).every(
    (fn: Partial<IndexedFunction>) =>
      typeof fn.key === 'string' &&
      typeof fn.artifact?.sha256 === 'string' &&
      typeof fn.artifact.size === 'number' &&
      Number.isInteger(fn.context) &&
      (fn.context as number) >= 0 &&
      (fn.context as number) < contexts.length &&
      Array.isArray(fn.inputs) &&
      fn.inputs.every((id) => Number.isInteger(id) && id >= 0 && id < paths.length),
  );
}
