/**
 * The esbuild options that bundle Node.js functions into the files of their artifacts. A bundle
 * keeps the handler's path with a `.mjs` extension (`src/api.ts` → `src/api.mjs`), so the
 * manifest's handler string (`src/api.handler`) means the same thing locally and on Lambda.
 */
import { createRequire } from 'node:module';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type * as Esbuild from 'esbuild';
import type { BuildOptions, Metafile, Plugin } from 'esbuild';
import { StagecraftError } from '../errors.js';

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
 * The real esbuild, loaded on the first build only: loading it costs tens of milliseconds, which
 * a build that finds everything cached (and every other command) should not pay. With `require`:
 * it is CommonJS, and an `import` would first have Node scan its 100 KB for named exports.
 */
export function loadEsbuild(): typeof Esbuild {
  return createRequire(import.meta.url)('esbuild') as typeof Esbuild;
}

export function esbuildBundler(): Bundler {
  const require = createRequire(import.meta.url);
  const manifest = JSON.parse(readFileSync(require.resolve('esbuild/package.json'), 'utf8')) as { version: string };
  return {
    version: `esbuild@${manifest.version}`,
    build: async (options) => loadEsbuild().build(options),
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

/**
 * Every function's entry is a module of its own in this namespace that re-exports only the
 * handler: a CommonJS handler bundled to ESM would otherwise offer just a default export, and a
 * missing export fails here rather than on the first call. No file has these paths; the output
 * does not mention them, so a function bundled with others gives the same bytes as alone.
 */
export const ENTRY_NAMESPACE = 'stagecraft-entry';

/** The entry's path in ENTRY_NAMESPACE: `src/api.ts#handler` (the export URI-encoded, so the last # splits). */
export function entryPath(target: HandlerTarget): string {
  return `${target.file}#${encodeURIComponent(target.exportName)}`;
}

/** The key of a function's entry among the metafile's inputs. */
export function entryInput(target: HandlerTarget): string {
  return `${ENTRY_NAMESPACE}:${entryPath(target)}`;
}

/**
 * The esbuild options that bundle these handlers in one call, each into its own `.mjs` beside
 * its source path. Their outfiles must differ. The app folder appears only in `absWorkingDir`,
 * `outdir` and the entries' `resolveDir`, which the cache key leaves out, so the output is the
 * same wherever the app is. The floor of bench/build bundles with these very options.
 */
export function bundleOptions(appDir: string, targets: readonly HandlerTarget[]): BundleOptions {
  return {
    ...portableBundleOptions(),
    entryPoints: targets.map((target) => ({ in: entryInput(target), out: target.outfile.replace(/\.mjs$/, '') })),
    outdir: appDir,
    outExtension: { '.js': '.mjs' },
    absWorkingDir: appDir,
    plugins: [entryPlugin(appDir)],
  };
}

/** Serves the entries: stateless (all it needs is in the path), so an esbuild context may keep it. */
function entryPlugin(appDir: string): Plugin {
  const prefix = `${ENTRY_NAMESPACE}:`;
  return {
    name: ENTRY_NAMESPACE,
    setup(build) {
      build.onResolve({ filter: new RegExp(`^${prefix}`) }, (args) =>
        args.kind === 'entry-point' ? { path: args.path.slice(prefix.length), namespace: ENTRY_NAMESPACE } : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: ENTRY_NAMESPACE }, (args) => {
        const at = args.path.lastIndexOf('#');
        const file = args.path.slice(0, at);
        const exportName = decodeURIComponent(args.path.slice(at + 1));
        const name = /^[A-Za-z_$][\w$]*$/.test(exportName) ? exportName : JSON.stringify(exportName);
        return {
          contents: `export { ${name} } from ${JSON.stringify(`./${file}`)};\n`,
          resolveDir: appDir,
          loader: 'js',
        };
      });
    },
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

/**
 * An absolute path of this machine in the output: the app folder followed by the first
 * segment of a bundled file (`/home/me/shop/src/...`). Only such paths count, because an app
 * at `/app` may well contain the text "/app/settings" as a route.
 */
export function findMachinePath(
  content: string | Uint8Array,
  appDir: string,
  inputs: readonly string[],
): string | undefined {
  // Searched as bytes: decoding megabytes of bundle to text only to find nothing costs more than the search.
  const bytes =
    typeof content === 'string'
      ? Buffer.from(content)
      : Buffer.from(content.buffer, content.byteOffset, content.length);
  const needle = Buffer.from(appDir);
  let firstSegments: Set<string | undefined> | undefined;
  for (let at = bytes.indexOf(needle); at >= 0; at = bytes.indexOf(needle, at + 1)) {
    firstSegments ??= new Set(inputs.map((input) => input.split('/')[0]).filter((segment) => segment !== '..'));
    const rest = bytes.subarray(at + needle.length, at + needle.length + 256).toString();
    const segment = /^[/\\]([^/\\"'`\s]+)/.exec(rest)?.[1];
    if (segment !== undefined && firstSegments.has(segment)) return `${appDir}/${segment}/…`;
  }
  return undefined;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
