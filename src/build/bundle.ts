/**
 * Bundling one Node.js function with esbuild into the files of its artifact. The bundle keeps
 * the handler's path with a `.mjs` extension (`src/api.ts` → `src/api.mjs`), so the manifest's
 * handler string (`src/api.handler`) means the same thing locally and on Lambda.
 */
import { createRequire } from 'node:module';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { BuildFailure, BuildOptions, Message, Metafile } from 'esbuild';
import { StagecraftError } from '../errors.js';
import type { ZipEntry } from './zip.js';

/** What buildArtifacts needs from esbuild; passed in so tests can count or alter builds. */
export interface Bundler {
  /** Part of every cache key: another bundler version must rebuild everything. */
  readonly version: string;
  build(options: BundleOptions): Promise<BundleOutput>;
}

export type BundleOptions = BuildOptions & { write: false; metafile: true };

export interface BundleOutput {
  outputFiles: readonly { path: string; contents: Uint8Array; text: string }[];
  metafile: Metafile;
}

/**
 * The real esbuild. It is imported on the first build only: loading it costs tens of
 * milliseconds, which a build that finds everything cached (and every other command) should not pay.
 */
export function esbuildBundler(): Bundler {
  const require = createRequire(import.meta.url);
  const manifest = JSON.parse(readFileSync(require.resolve('esbuild/package.json'), 'utf8')) as { version: string };
  return {
    version: `esbuild@${manifest.version}`,
    async build(options) {
      const esbuild = await import('esbuild');
      return esbuild.build(options);
    },
  };
}

/** Where a handler string points: the source file found and the export to call. */
export interface HandlerTarget {
  /** As in the manifest: `src/api.handler`. */
  handler: string;
  /** The source file found, relative to the app: `src/api.ts`. */
  file: string;
  /** The bundle inside the artifact, relative to its root: `src/api.mjs`. */
  outfile: string;
  /** The module's export that holds the handler: `handler`. */
  exportName: string;
}

/** Tried in this order; the first that exists is the handler's source. */
export const HANDLER_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'] as const;

export function resolveHandler(appDir: string, functionName: string, handler: string): HandlerTarget {
  // Lambda's rule: the module is everything up to the first "." after the last "/"; the rest
  // names the export, possibly nested ("api.handlers.get" exports `handlers`).
  const slash = handler.lastIndexOf('/');
  const dot = handler.indexOf('.', slash + 1);
  const modulePath = dot < 0 ? '' : handler.slice(0, dot).replace(/^\.\//, '');
  const exportName = dot < 0 ? '' : (handler.slice(dot + 1).split('.')[0] ?? '');
  if (modulePath === '' || exportName === '' || modulePath.startsWith('/') || modulePath.split('/').includes('..')) {
    throw new StagecraftError(
      'BUILD_FAILED',
      `Function "${functionName}": handler "${handler}" is not <file>.<export> inside the app.`,
      {
        hint: 'Write the handler as a path relative to the app without its extension, then the export: src/api.handler.',
      },
    );
  }
  const tried = HANDLER_EXTENSIONS.map((extension) => `${modulePath}${extension}`);
  const file = tried.find((candidate) => isFile(join(appDir, candidate)));
  if (file === undefined) {
    throw new StagecraftError(
      'BUILD_FAILED',
      `Function "${functionName}": no source file for handler "${handler}"; tried ${tried.join(', ')}.`,
      {
        hint: `Create one of those files exporting "${exportName}", or fix the handler in stagecraft.yml.`,
      },
    );
  }
  return { handler, file, outfile: `${modulePath}.mjs`, exportName };
}

/** The stdin entry's name in messages and in the metafile; no file has it. */
export const ENTRY_NAME = 'stagecraft:entry';

/**
 * The esbuild options for one handler. The app folder appears only in `absWorkingDir` and
 * `resolveDir`, which the cache key leaves out, so the output is the same wherever the app is.
 */
export function bundleOptions(appDir: string, target: HandlerTarget): BundleOptions {
  const name = /^[A-Za-z_$][\w$]*$/.test(target.exportName) ? target.exportName : JSON.stringify(target.exportName);
  return {
    ...portableBundleOptions(),
    // The entry re-exports only the handler: a CommonJS handler bundled to ESM would otherwise
    // offer just a default export, and a missing export fails here rather than on the first call.
    stdin: {
      contents: `export { ${name} } from ${JSON.stringify(`./${target.file}`)};\n`,
      resolveDir: appDir,
      sourcefile: ENTRY_NAME,
      loader: 'js',
    },
    outfile: target.outfile,
    absWorkingDir: appDir,
  };
}

/** The options that do not depend on the machine: these go into the cache key as they are. */
export function portableBundleOptions(): Omit<BundleOptions, 'stdin' | 'outfile' | 'absWorkingDir'> {
  return {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // ESM output has no require/__filename/__dirname, yet bundled CommonJS packages call
    // require('fs') and read __dirname (https://github.com/evanw/esbuild/issues/1921). The
    // banner's names are unusual so they cannot clash with a handler's own top-level
    // `const __dirname`; `define` points the free uses at them. `require` keeps its name because
    // esbuild's __require shim looks it up, and esbuild renames a top-level `require` of ours.
    banner: {
      js: [
        "import { createRequire as __stagecraftCreateRequire } from 'node:module';",
        "import { fileURLToPath as __stagecraftFileURLToPath } from 'node:url';",
        "import { dirname as __stagecraftDirname } from 'node:path';",
        'const require = __stagecraftCreateRequire(import.meta.url);',
        'const __stagecraft_filename = __stagecraftFileURLToPath(import.meta.url);',
        'const __stagecraft_dirname = __stagecraftDirname(__stagecraft_filename);',
      ].join('\n'),
    },
    define: { __filename: '__stagecraft_filename', __dirname: '__stagecraft_dirname' },
    // "linked" = an external .map file plus the comment naming it, which Node's
    // --enable-source-maps (and Lambda's NODE_OPTIONS) needs to find it.
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    write: false,
    minify: false,
    legalComments: 'none',
    logLevel: 'silent',
  };
}

export interface BundledFunction {
  /** The files of the artifact: the bundle and its source map. */
  entries: ZipEntry[];
  /** Every source file bundled in, relative to the app, with its size in bytes. */
  inputs: Record<string, number>;
}

export async function bundleFunction(
  appDir: string,
  functionName: string,
  target: HandlerTarget,
  bundler: Bundler,
): Promise<BundledFunction> {
  let output: BundleOutput;
  try {
    output = await bundler.build(bundleOptions(appDir, target));
  } catch (error) {
    throw buildError(functionName, target, error);
  }
  const entries = output.outputFiles.map((file) => ({
    path: relative(appDir, file.path).split(sep).join('/'),
    data: file.contents,
  }));
  const inputs: Record<string, number> = {};
  for (const [path, input] of Object.entries(output.metafile.inputs)) {
    if (path !== ENTRY_NAME) inputs[path] = input.bytes;
  }
  // The real path too: esbuild may resolve symlinks (macOS's /tmp is /private/tmp).
  const roots = [...new Set([appDir, realpathSync(appDir)])];
  for (const file of output.outputFiles) {
    const leak = roots
      .map((root) => findMachinePath(file.text, root, Object.keys(inputs)))
      .find((found) => found !== undefined);
    if (leak !== undefined) {
      throw new StagecraftError(
        'BUILD_FAILED',
        `Function "${functionName}": the bundle ${target.outfile} contains the absolute path "${leak}" of this machine, so it would differ on every machine.`,
        {
          hint: `Do not embed absolute paths in ${target.file} or its imports; use paths relative to import.meta.url.`,
        },
      );
    }
  }
  return { entries, inputs };
}

/**
 * An absolute path of this machine in the output: the app folder followed by the first
 * segment of a bundled file (`/home/me/shop/src/...`). Only such paths count, because an app
 * at `/app` may well contain the text "/app/settings" as a route.
 */
export function findMachinePath(text: string, appDir: string, inputs: readonly string[]): string | undefined {
  const firstSegments = new Set(inputs.map((input) => input.split('/')[0]).filter((segment) => segment !== '..'));
  for (let at = text.indexOf(appDir); at >= 0; at = text.indexOf(appDir, at + 1)) {
    const rest = text.slice(at + appDir.length, at + appDir.length + 256);
    const segment = /^[/\\]([^/\\"'`\s]+)/.exec(rest)?.[1];
    if (segment !== undefined && firstSegments.has(segment)) return `${appDir}/${segment}/…`;
  }
  return undefined;
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
  const file = first === undefined || first === ENTRY_NAME ? target.file : first;
  return new StagecraftError(
    'BUILD_FAILED',
    `Function "${functionName}": ${lines[0]}${lines.length > 1 ? ` (and ${lines.length - 1} more)` : ''}`,
    {
      hint:
        first === ENTRY_NAME
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
  if (location.file === ENTRY_NAME) return `${target.file}: ${message.text} (handler "${target.handler}")`;
  const column = Buffer.from(location.lineText).subarray(0, location.column).toString().length + 1;
  return `${location.file}:${location.line}:${column}: ${message.text}`;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
