#!/usr/bin/env node
// After `tsc`, two bundles with esbuild, both to start sooner (bench/RESULTS.md): Node's ES module
// loader spends about half a millisecond on every module it resolves, reads and links.
//
// 1. The Node bootstrap (dist/runtime/node-bootstrap.mjs) becomes one file, as AWS ships its own
//    runtime (/var/runtime/index.mjs): every cold start of a Node function is ~8 ms shorter.
//    It has no dependencies but Node's own modules; its path stays the same.
//
// 2. The Python bootstrap (src/runtime/python-bootstrap/, standard library only) is copied to
//    dist/runtime/python-bootstrap/ as it is: tsc copies no .py files.
//
// 3. The command line (dist/cli/main.js and the modules it imports) becomes a handful of files
//    instead of some ninety:
// - Code splitting keeps every dynamic import lazy: each command, and each module loaded on
//   demand, becomes a chunk of its own that is read only when it runs.
// - The small pure-JS packages the commands start with (zod, yaml, commander, picomatch) and the
//   credential scan's secretlint (with debug, ms, supports-color, has-flag, structured-source and
//   boundary, which it imports) are bundled into the chunks that use them: Node resolves, reads and
//   links each file of a package on its own (zod alone is 99 files, secretlint 45), which cost a
//   one-function `build` about 115 ms. They still load only with the code that needs them: zod and
//   yaml with the manifest parser's chunk, on a manifest cache miss; secretlint when a file's
//   findings are not remembered. Every other package stays external: better-sqlite3 is native and
//   finds its binary from its own folder, esbuild runs its own binary, fflate is also loaded by path
//   in zip workers, and the AWS SDK and dynalite are large and load on demand. Every module is in
//   the bundle once: `instanceof StagecraftError` holds across chunks.
// - commander and picomatch are CommonJS: every chunk gets a `require` of its own (a banner) for
//   the Node modules they require.
// - Paths a module builds from `import.meta.url` (the Node bootstrap, the parser's files) are
//   rewritten relative to the bundle's folder, where every chunk lands.
// - The rest of dist/ stays as tsc wrote it: the library API (dist/index.js) is unbundled.
//
// 3. The dashboard's browser assets (src/dashboard/client: script, uPlot, style) become one
//    minified script and one style sheet in dist/dashboard/assets/, named by content hash and
//    listed in manifest.json; first, since the CLI bundle checks the paths it relocates exist.
//    The script must stay under 60 KB gzipped.
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const outdir = join(dist, 'cli');
const CHUNK_PREFIX = 'bundle-';

/** A path relative to the bundle's folder, as a relative module specifier. */
function fromOutdir(file) {
  const path = relative(outdir, file).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

const relocate = {
  name: 'stagecraft-relocate',
  setup(context) {
    context.onLoad({ filter: /\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8').replace(
        /new URL\((['"])(\.{1,2}\/[^'"]+)\1, import\.meta\.url\)/g,
        (_whole, quote, path) =>
          `new URL(${quote}${fromOutdir(join(dirname(args.path), path))}${quote}, import.meta.url)`,
      );
      return { contents: text, loader: 'js' };
    });
  },
};

// Both entries are bundled from what tsc just wrote; a second run would bundle the bundles.
if (readFileSync(join(outdir, 'main.js'), 'utf8').includes(`./${CHUNK_PREFIX}`)) {
  throw new Error('dist/ is bundled already: run `npm run build`, which runs tsc first.');
}

const assets = join(dist, 'dashboard', 'assets');
rmSync(assets, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });
const client = await build({
  entryPoints: { app: join(root, 'src', 'dashboard', 'client', 'app.ts') },
  outdir: assets,
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  metafile: true,
  logLevel: 'warning',
});
const assetManifest = {};
for (const output of Object.keys(client.metafile.outputs)) {
  const name = basename(output);
  assetManifest[`app.${name.split('.').pop()}`] = name;
}
writeFileSync(join(assets, 'manifest.json'), `${JSON.stringify(assetManifest, null, 2)}\n`);
const gzipped = gzipSync(readFileSync(join(assets, assetManifest['app.js']))).length;
if (gzipped >= 60 * 1024) throw new Error(`the dashboard's script is ${gzipped} bytes gzipped; the budget is 60 KB`);

await build({
  entryPoints: [join(dist, 'runtime', 'node-bootstrap.mjs')],
  outfile: join(dist, 'runtime', 'node-bootstrap.mjs'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  allowOverwrite: true,
  logLevel: 'warning',
});
rmSync(join(dist, 'runtime', 'node-bootstrap.mjs.map'), { force: true }); // tsc's map of the unbundled file

const pythonBootstrap = join(dist, 'runtime', 'python-bootstrap');
rmSync(pythonBootstrap, { recursive: true, force: true });
cpSync(join(dist, '..', 'src', 'runtime', 'python-bootstrap'), pythonBootstrap, {
  recursive: true,
  filter: (source) => !source.includes('__pycache__') && !source.endsWith('.pyc'),
});

// Chunks of an earlier build would linger next to the new ones.
for (const name of readdirSync(outdir)) if (name.startsWith(CHUNK_PREFIX)) rmSync(join(outdir, name));
rmSync(join(outdir, 'main.js.map'), { force: true }); // tsc's map of the file the bundle replaces

/** Packages bundled into the CLI's chunks; every other bare import stays external. */
const BUNDLED_PACKAGES = new Set([
  'zod',
  'yaml',
  'commander',
  'picomatch',
  // The credential scan's secretlint, with what it imports.
  '@secretlint/core',
  '@secretlint/profiler',
  '@secretlint/secretlint-rule-preset-recommend',
  'debug',
  'ms',
  'supports-color',
  'has-flag',
  'structured-source',
  'boundary',
]);
const externalPackages = {
  name: 'stagecraft-external-packages',
  setup(context) {
    context.onResolve({ filter: /^[^./]/ }, (args) => {
      const parts = args.path.split('/');
      const name = args.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
      if (!BUNDLED_PACKAGES.has(name)) return { path: args.path, external: true };
      // A dynamic import of a bundled CommonJS package yields only its default export.
      if (args.kind === 'dynamic-import')
        throw new Error(
          `${args.importer}: import('${args.path}') of a bundled package; import a local module that re-exports it`,
        );
      return undefined;
    });
  },
};

const result = await build({
  entryPoints: { main: join(outdir, 'main.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: `${CHUNK_PREFIX}[name]-[hash]`,
  banner: {
    js: "import { createRequire as __stagecraftCreateRequire } from 'node:module'; const require = __stagecraftCreateRequire(import.meta.url);",
  },
  allowOverwrite: true,
  plugins: [externalPackages, relocate],
  logLevel: 'warning',
  write: true,
  metafile: true,
});

// Every path built from import.meta.url must lead to a file from where the bundle runs; one built
// from a variable cannot be relocated and would silently point into dist/cli/.
for (const output of Object.keys(result.metafile.outputs)) {
  if (!output.endsWith('.js')) continue;
  const text = readFileSync(output, 'utf8');
  for (const [, argument] of text.matchAll(/new URL\(([^,()]+), import\.meta\.url\)/g)) {
    const literal = /^(['"])([^'"]+)\1$/.exec(argument.trim());
    if (literal === null)
      throw new Error(
        `${output}: new URL(${argument}, import.meta.url) cannot be relocated; write the path out as a string`,
      );
    if (!existsSync(join(dirname(output), literal[2])))
      throw new Error(`${output}: ${literal[2]} does not exist next to the bundle`);
  }
}
