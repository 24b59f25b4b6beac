/**
 * The browser assets esbuild bundled at build time (scripts/bundle.mjs): names carry a content
 * hash, so they are served as immutable for a year; pages point at the current names.
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

export interface Assets {
  /** The hashed file names of the script and the style sheet; undefined before a build. */
  script?: string;
  style?: string;
  /** Serves /assets/<name>; false when no such asset exists. */
  serve(name: string, response: ServerResponse): boolean;
}

const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

export function loadAssets(): Assets {
  let manifest: Record<string, string> = {};
  const folder = new URL('./assets/manifest.json', import.meta.url);
  try {
    manifest = JSON.parse(readFileSync(fileURLToPath(folder), 'utf8')) as Record<string, string>;
  } catch {
    // Run from the sources (unit tests): pages still read without script and style.
  }
  const files = new Map<string, Buffer>();
  for (const name of Object.values(manifest)) files.set(name, readFileSync(fileURLToPath(new URL(name, folder))));
  return {
    ...(manifest['app.js'] ? { script: manifest['app.js'] } : {}),
    ...(manifest['app.css'] ? { style: manifest['app.css'] } : {}),
    serve(name, response) {
      const body = files.get(name);
      if (!body) return false;
      response
        .writeHead(200, {
          'content-type': TYPES[name.split('.').pop() ?? ''] ?? 'application/octet-stream',
          'content-length': body.length,
          'cache-control': 'public, max-age=31536000, immutable',
        })
        .end(body);
      return true;
    },
  };
}
