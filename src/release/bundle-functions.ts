/**
 * Bundling Node.js functions together, in a few esbuild calls that each read and parse what their
 * functions share once, then splitting the output by function: its files, the sources it was built
 * from, and a check that no absolute path of this machine got in.
 */
import { realpathSync } from 'node:fs';
import { relative, sep } from 'node:path';
import type { BuildFailure, Message, Metafile } from 'esbuild';
import { StagecraftError } from '../errors.js';
import {
  bundleOptions,
  entryInput,
  findMachinePath,
  type Bundler,
  type BundleOutput,
  type HandlerTarget,
} from './bundle.js';
import { forEachLimited } from './concurrency.js';
import type { ZipEntry } from './zip.js';

export interface FunctionTarget {
  name: string;
  target: HandlerTarget;
}

export interface BundledFunction {
  /** The files of the artifact: the bundle and its source map. */
  entries: ZipEntry[];
  /** Every source file bundled in, relative to the app, with its size in bytes. */
  inputs: Record<string, number>;
}

/** Fewest functions per esbuild call of a large build, and most calls (see batches). */
const MIN_BATCH = 8;
const MAX_BATCHES = 4;

/**
 * Bundles every function, in few esbuild calls one after another: as few as their outfiles allow
 * (two functions with one handler file need two), a large build split in up to MAX_BATCHES, and
 * hands each result to `onBundled` as soon as its call is done, so the first functions can be
 * zipped while esbuild bundles the rest. A call that fails is made again one function at a time,
 * at most `concurrency` at once, so that each function gets its own result: its bundle, or the
 * error that names its own problem, while the others are still built.
 */
export async function bundleFunctions(
  appDir: string,
  functions: readonly FunctionTarget[],
  bundler: Bundler,
  concurrency: number,
  onBundled: (name: string, result: BundledFunction | StagecraftError) => void,
): Promise<void> {
  for (const batch of waves(functions).flatMap(batches)) {
    const together = await bundleTogether(appDir, batch, bundler);
    if (together !== undefined) {
      for (const [name, result] of together) onBundled(name, result);
      continue;
    }
    await forEachLimited(batch, concurrency, async (fn) => {
      const alone = (await bundleTogether(appDir, [fn], bundler))?.get(fn.name);
      if (alone !== undefined) onBundled(fn.name, alone);
    });
  }
}

/**
 * A wave in calls of at least MIN_BATCH functions, at most MAX_BATCHES of them. esbuild keeps both
 * cores busy either way (bench/RESULTS.md, 2026-12-05: 50 functions in 1, 2 or 5 calls take the same
 * time), and each call's artifacts can be zipped while the next bundles.
 */
function batches(wave: FunctionTarget[]): FunctionTarget[][] {
  const size = Math.max(MIN_BATCH, Math.ceil(wave.length / MAX_BATCHES));
  const result: FunctionTarget[][] = [];
  for (let start = 0; start < wave.length; start += size) result.push(wave.slice(start, start + size));
  return result;
}

/** Groups in which no two functions write the same outfile, each function in the first that can take it. */
function waves(functions: readonly FunctionTarget[]): FunctionTarget[][] {
  const groups: { outfiles: Set<string>; members: FunctionTarget[] }[] = [];
  for (const fn of functions) {
    let group = groups.find((candidate) => !candidate.outfiles.has(fn.target.outfile));
    if (group === undefined) {
      group = { outfiles: new Set(), members: [] };
      groups.push(group);
    }
    group.outfiles.add(fn.target.outfile);
    group.members.push(fn);
  }
  return groups.map((group) => group.members);
}

/**
 * One esbuild call for these functions. Undefined when it failed for several functions (the
 * caller then tells them apart); a function alone gets its error as its result.
 */
async function bundleTogether(
  appDir: string,
  functions: readonly FunctionTarget[],
  bundler: Bundler,
): Promise<Map<string, BundledFunction | StagecraftError> | undefined> {
  let output: BundleOutput;
  try {
    output = await bundler.build(
      bundleOptions(
        appDir,
        functions.map((fn) => fn.target),
      ),
    );
  } catch (error) {
    const [only] = functions;
    if (functions.length === 1 && only !== undefined)
      return new Map([[only.name, buildError(only.name, only.target, error)]]);
    return undefined;
  }
  const files = filesByEntry(appDir, output);
  // The real path too: esbuild may resolve symlinks (macOS's /tmp is /private/tmp).
  const roots = [...new Set([appDir, realpathSync(appDir)])];
  const results = new Map<string, BundledFunction | StagecraftError>();
  for (const { name, target } of functions) {
    const entry = entryInput(target);
    const outputs = files.get(entry) ?? [];
    const inputs = reachableInputs(output.metafile, entry);
    const leak = outputs
      .flatMap((file) => roots.map((root) => findMachinePath(file.contents, root, Object.keys(inputs))))
      .find((found) => found !== undefined);
    results.set(
      name,
      leak === undefined
        ? { entries: outputs.map((file) => ({ path: file.path, data: file.contents })), inputs }
        : new StagecraftError(
            'BUILD_FAILED',
            `Function "${name}": the bundle ${target.outfile} contains the absolute path "${leak}" of this machine, so it would differ on every machine.`,
            {
              hint: `Do not embed absolute paths in ${target.file} or its imports; use paths relative to import.meta.url.`,
            },
          ),
    );
  }
  return results;
}

/**
 * The output files (path relative to the app) of each entry, by its metafile input: a bundle,
 * its CSS, and the source map of either. Without code splitting every file belongs to one entry.
 */
function filesByEntry(appDir: string, output: BundleOutput): Map<string, { path: string; contents: Uint8Array }[]> {
  const owner = new Map<string, string>();
  for (const [path, meta] of Object.entries(output.metafile.outputs)) {
    if (meta.entryPoint === undefined) continue;
    owner.set(path, meta.entryPoint);
    if (meta.cssBundle !== undefined) owner.set(meta.cssBundle, meta.entryPoint);
  }
  const files = new Map<string, { path: string; contents: Uint8Array }[]>();
  for (const file of output.outputFiles) {
    const path = relative(appDir, file.path).split(sep).join('/');
    const entry = owner.get(path) ?? owner.get(path.replace(/\.map$/, ''));
    if (entry === undefined) {
      throw new StagecraftError('BUILD_FAILED', `esbuild wrote ${path}, which belongs to no function.`, {
        hint: 'Report this as a Stagecraft bug, with the esbuild version.',
      });
    }
    const list = files.get(entry) ?? [];
    list.push({ path, contents: file.contents });
    files.set(entry, list);
  }
  return files;
}

/**
 * Every source file an entry reaches through its imports, with its size: what a build of this
 * entry alone would list as its inputs. The entry itself is not a file and is left out.
 */
function reachableInputs(metafile: Metafile, entry: string): Record<string, number> {
  const inputs: Record<string, number> = {};
  const seen = new Set([entry]);
  const pending = [entry];
  for (let path = pending.pop(); path !== undefined; path = pending.pop()) {
    const input = metafile.inputs[path];
    if (input === undefined) continue;
    if (path !== entry) inputs[path] = input.bytes;
    for (const imported of input.imports) {
      if (imported.external === true || seen.has(imported.path)) continue;
      seen.add(imported.path);
      pending.push(imported.path);
    }
  }
  return inputs;
}

function buildError(functionName: string, target: HandlerTarget, error: unknown): StagecraftError {
  const messages = (error as Partial<BuildFailure>).errors;
  if (!Array.isArray(messages) || messages.length === 0) {
    return new StagecraftError(
      'BUILD_FAILED',
      `Function "${functionName}": esbuild failed on ${target.file}: ${(error as Error).message}`,
      {
        hint: 'Check that esbuild is installed for this platform (npm ci), then build again.',
        cause: error,
      },
    );
  }
  const lines = messages.map((message) => describe(message, target));
  const first = messages[0]?.location?.file;
  const entry = entryInput(target);
  const file = first === undefined || first === entry ? target.file : first;
  return new StagecraftError(
    'BUILD_FAILED',
    `Function "${functionName}": ${lines[0]}${lines.length > 1 ? ` (and ${lines.length - 1} more)` : ''}`,
    {
      hint:
        first === entry
          ? `Make ${target.file} export "${target.exportName}", or fix the handler "${target.handler}" in stagecraft.yml.`
          : `Fix ${file} and build again.`,
      details: lines,
      cause: error,
    },
  );
}

/** `file:line:column: text`, with a 1-based column counted in characters, as editors count. */
function describe(message: Message, target: HandlerTarget): string {
  const location = message.location;
  if (location === null) return message.text;
  // The synthetic entry only re-exports the handler; its problems are the handler file's.
  if (location.file === entryInput(target)) return `${target.file}: ${message.text} (handler "${target.handler}")`;
  const column = Buffer.from(location.lineText).subarray(0, location.column).toString().length + 1;
  return `${location.file}:${location.line}:${column}: ${message.text}`;
}
