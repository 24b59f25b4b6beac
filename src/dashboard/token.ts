/**
 * The dashboard's token: 32 random bytes in `$XDG_CONFIG_HOME/stagecraft/dashboard.token`
 * (beside the secret key, outside every project), created once with mode 0600.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StagecraftError } from '../errors.js';
import { keyFilePath } from '../secrets/index.js';

export function tokenFilePath(env: NodeJS.ProcessEnv): string {
  return join(dirname(keyFilePath(env)), 'dashboard.token');
}

/** The user's token, created on first use. */
export function dashboardToken(env: NodeJS.ProcessEnv): { token: string; file: string } {
  const file = tokenFilePath(env);
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    try {
      // `wx`: two processes starting at once must not each write a token of their own.
      writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const token = readFileSync(file, 'utf8').trim();
    if (token.length < 32) throw new Error(`it holds ${token.length} characters, fewer than 32`);
    return { token, file };
  } catch (cause) {
    throw new StagecraftError(
      'ARGUMENT_INVALID',
      `cannot use the dashboard token ${file}: ${(cause as Error).message}`,
      {
        hint: 'remove the file; the next start writes a new one',
        cause,
      },
    );
  }
}
