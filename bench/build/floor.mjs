#!/usr/bin/env node
// The floors of bench/build, each run as a process of its own so that Node's start is in it as it
// is in `stagecraft build`:
//   node bench/build/floor.mjs esbuild APP HANDLER...  one plain esbuild call bundling these handlers,
//     with the esbuild options `stagecraft build` uses (taken from dist/release/bundle.js, the very
//     function the build calls, so they cannot drift apart), nothing written, nothing zipped.
//   node bench/build/floor.mjs zip APP FOLDER...  each folder's files read and zipped (the same
//     deterministic zip, one after another on this thread), nothing written.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'release');
const [kind, app, ...rest] = process.argv.slice(2);

if (kind === 'esbuild') {
  const [esbuild, { bundleOptions, resolveHandler }] = await Promise.all([
    import('esbuild'),
    import(join(dist, 'bundle.js')),
  ]);
  const targets = rest.map((handler, index) => resolveHandler(app, `f${index}`, handler));
  const result = await esbuild.build(bundleOptions(app, targets));
  if (result.outputFiles.length < targets.length) throw new Error('esbuild gave fewer files than entries');
} else if (kind === 'zip') {
  const { deterministicZip } = await import(join(dist, 'zip.js'));
  for (const folder of rest) {
    const entries = [];
    const walk = (dir, prefix) => {
      for (const name of readdirSync(dir).sort()) {
        const full = join(dir, name);
        const stats = statSync(full);
        if (stats.isDirectory()) walk(full, `${prefix}${name}/`);
        else entries.push({ path: `${prefix}${name}`, data: readFileSync(full), mode: stats.mode });
      }
    };
    walk(join(app, folder), '');
    deterministicZip(entries);
  }
} else {
  throw new Error('usage: floor.mjs esbuild APP HANDLER... | zip APP FOLDER...');
}
