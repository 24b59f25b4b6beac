/**
 * The key that seals the local secret store: 32 random bytes (AES-256), from
 * `STAGECRAFT_SECRET_KEY` (CI) or a key file only its owner can read, in the user's config folder
 * (`$XDG_CONFIG_HOME/stagecraft/secret.key`, else `~/.config/stagecraft/secret.key`). Never inside
 * the app's folder: a key committed beside the secrets it opens protects nothing.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, realpathSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { StagecraftError } from '../errors.js';

export const KEY_VARIABLE = 'STAGECRAFT_SECRET_KEY';

export interface SecretKey {
  bytes: Buffer;
  /** Derived from the key (HMAC), safe to store and show: tells a wrong key from a damaged value. */
  id: string;
  /** Where it came from, for messages: `STAGECRAFT_SECRET_KEY` or the file's path. */
  from: string;
}

const GENERATE = `node -e "console.log(require('node:crypto').randomBytes(32).toString('base64'))"`;

/** `$XDG_CONFIG_HOME/stagecraft/secret.key`, else `$HOME/.config/stagecraft/secret.key`. */
export function keyFilePath(env: NodeJS.ProcessEnv): string {
  const xdg = env['XDG_CONFIG_HOME'];
  // The XDG spec ignores a relative XDG_CONFIG_HOME (https://specifications.freedesktop.org/basedir-spec/latest/).
  const base = xdg && isAbsolute(xdg) ? xdg : join(env['HOME'] || homedir(), '.config');
  return join(base, 'stagecraft', 'secret.key');
}

export function keyId(bytes: Buffer): string {
  return createHmac('sha256', bytes).update('stagecraft secret key id').digest('hex').slice(0, 16);
}

/** 32 bytes written as base64 (44 characters) or hex (64 characters). */
function parseKey(text: string, from: string): SecretKey {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)
      ? Buffer.from(trimmed, 'base64')
      : undefined;
  if (bytes?.length !== 32) {
    throw new StagecraftError(
      'SECRET_KEY_INVALID',
      `the secret key in ${from} is not a 256-bit key (expected 32 bytes written as base64 or hex)`,
      {
        hint: `make one with: ${GENERATE}`,
      },
    );
  }
  return { bytes, id: keyId(bytes), from };
}

export interface KeyOptions {
  env: NodeJS.ProcessEnv;
  /** The app's folder: the key file may not be inside it. */
  appDir: string;
}

/** The key, or undefined when there is none at all. A key that is there but unusable throws. */
export function findKey(options: KeyOptions): SecretKey | undefined {
  const fromEnv = options.env[KEY_VARIABLE];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return parseKey(fromEnv, KEY_VARIABLE);
  const path = keyFilePath(options.env);
  refuseInsideApp(path, options.appDir);
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return undefined;
  }
  // As ssh does with private keys: a key others can read is refused, not used.
  if ((stats.mode & 0o077) !== 0) {
    throw new StagecraftError(
      'SECRET_KEY_INVALID',
      `the secret key file ${path} can be read by others (mode ${(stats.mode & 0o777).toString(8)})`,
      {
        hint: `run: chmod 600 ${path}`,
      },
    );
  }
  return parseKey(readFileSync(path, 'utf8'), path);
}

/** The key, made (32 random bytes, mode 0600) when there is none yet. */
export function findOrCreateKey(options: KeyOptions): { key: SecretKey; created: boolean } {
  const found = findKey(options);
  if (found) return { key: found, created: false };
  const path = keyFilePath(options.env);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const text = `${randomBytes(32).toString('base64')}\n`;
  // 'wx': never overwrite a key another process has just written.
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      return { key: findKey(options) as SecretKey, created: false };
    throw error;
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return { key: parseKey(text, path), created: true };
}

function refuseInsideApp(path: string, appDir: string): void {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  const inside = relative(real(appDir), real(dirname(path)));
  if (inside === '' || (!inside.startsWith('..') && !isAbsolute(inside))) {
    throw new StagecraftError(
      'SECRET_KEY_INVALID',
      `the secret key file ${path} would be inside the app folder ${appDir}`,
      {
        hint: `keep the key outside the project tree: point XDG_CONFIG_HOME elsewhere, or set ${KEY_VARIABLE}`,
      },
    );
  }
}
