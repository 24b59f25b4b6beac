/**
 * Loads `stagecraft.yml` from an app folder. Parsing (YAML with positions, the zod schema, the
 * cross-checks) is the expensive part of every command's start, so a valid manifest's parsed
 * form is cached under `.stagecraft/cache/`, keyed by the exact text and by the parser itself;
 * the parser is loaded only on a miss. Only valid manifests are ever cached.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256Hex } from '../digest.js';
import { StagecraftError } from '../errors.js';
import { replaceCacheFile } from '../replace-file.js';
import type { LoadedManifest } from './parse.js';

export const MANIFEST_FILE = 'stagecraft.yml';

/** The largest manifest read (1 MiB): a real one is a few kilobytes (documented in the README). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

export interface LoadOptions {
  /** Parse and check everything, even when a cached result exists (what `validate` does). */
  fresh?: boolean;
}

export async function loadManifest(dir: string, options: LoadOptions = {}): Promise<LoadedManifest> {
  const appDir = findAppDir(resolve(dir));
  const file = join(appDir, MANIFEST_FILE);
  const text = readManifestText(file, appDir);
  const cacheFile = join(appDir, '.stagecraft', 'cache', 'manifest.json');
  const key = sha256Hex(`${parserIdentity()}\n${appDir}\n${text}`);
  if (!options.fresh) {
    const cached = readCache(cacheFile, key);
    if (cached) return { ...cached, appDir, file };
  }
  const loaded = await parseManifest(text, { file, appDir });
  replaceCacheFile(cacheFile, JSON.stringify({ key, manifest: loaded.manifest, digest: loaded.digest }));
  return loaded;
}

/**
 * The app folder: `start` or the nearest folder above it holding stagecraft.yml, as git finds
 * its repository. A stagecraft.yaml met on the way is named rather than passed over.
 */
function findAppDir(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, MANIFEST_FILE))) return dir;
    const misnamed = join(dir, 'stagecraft.yaml');
    if (existsSync(misnamed)) {
      throw new StagecraftError('MANIFEST_NOT_FOUND', `found ${misnamed}; Stagecraft reads ${MANIFEST_FILE}`, {
        hint: `rename it to ${MANIFEST_FILE}`,
      });
    }
    if (dirname(dir) === dir) {
      throw new StagecraftError('MANIFEST_NOT_FOUND', `no ${MANIFEST_FILE} in ${start} or any folder above it`, {
        hint: 'run `stagecraft init` to create one, or pass --dir <the app folder>',
      });
    }
  }
}

/**
 * The manifest's text, refused before reading when it cannot be a manifest: a device or FIFO
 * (reading /dev/zero never ends, a FIFO blocks) or a file over MAX_MANIFEST_BYTES.
 */
function readManifestText(file: string, appDir: string): string {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat) {
    throw new StagecraftError('MANIFEST_NOT_FOUND', `no ${MANIFEST_FILE} in ${appDir}`, {
      hint: 'run `stagecraft init` to create one, or pass --dir <the app folder>',
    });
  }
  if (!stat.isFile()) {
    const kind = stat.isFIFO()
      ? 'a FIFO'
      : stat.isCharacterDevice() || stat.isBlockDevice()
        ? 'a device'
        : stat.isDirectory()
          ? 'a folder'
          : 'a socket';
    throw new StagecraftError('MANIFEST_INVALID', `${file} is not a regular file (it is ${kind})`, {
      hint: `make ${MANIFEST_FILE} a plain text file`,
    });
  }
  if (stat.size > MAX_MANIFEST_BYTES) {
    throw new StagecraftError(
      'MANIFEST_INVALID',
      `${file} is ${stat.size} bytes; a manifest may be at most ${MAX_MANIFEST_BYTES} bytes`,
      {
        hint: 'a manifest describes functions and environments; data belongs elsewhere',
      },
    );
  }
  return readFileSync(file, 'utf8');
}

/** Parses manifest text; `appDir` (when given) also lets it check that handler files exist. */
export async function parseManifest(text: string, where: { file: string; appDir?: string }): Promise<LoadedManifest> {
  const { parseManifest: parse } = await import('./parse.js');
  return parse(text, where);
}

/**
 * The parser's own files: a change to the schema invalidates every cached manifest. Each URL is
 * written out whole so that scripts/bundle-cli.mjs can point it at the file from the bundle.
 */
const PARSER_FILES: ReadonlyArray<readonly [string, URL]> = [
  ['./parse.js', new URL('./parse.js', import.meta.url)],
  ['./schema.js', new URL('./schema.js', import.meta.url)],
  ['./fields.js', new URL('./fields.js', import.meta.url)],
  ['./cross-check.js', new URL('./cross-check.js', import.meta.url)],
];

function parserIdentity(): string {
  return PARSER_FILES.map(([name, url]) => {
    const stat = statSync(fileURLToPath(url), { throwIfNoEntry: false });
    return `${name}:${stat?.size}:${stat?.mtimeMs}`;
  }).join(',');
}

function readCache(path: string, key: string): Pick<LoadedManifest, 'manifest' | 'digest'> | undefined {
  try {
    const cached = JSON.parse(readFileSync(path, 'utf8')) as {
      key: string;
      manifest: LoadedManifest['manifest'];
      digest: string;
    };
    return cached.key === key ? { manifest: cached.manifest, digest: cached.digest } : undefined;
  } catch {
    return undefined;
  }
}
