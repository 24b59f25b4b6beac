/**
 * Before the state database is opened: an emptied or missing database where the app has clearly
 * been used (artifacts, logs, backups, or the marker written beside a database) is not a new
 * project, and a corrupt one is not a bug. Both get a clear error and the way back.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StagecraftError } from '../errors.js';
import { listBackups, newestGoodBackup } from './backups.js';

const MARKER = 'state.marker';

/** Written once a database exists: its disappearance is then noticed. */
export function markState(statePath: string): void {
  const marker = join(dirname(statePath), MARKER);
  if (!existsSync(marker))
    writeFileSync(marker, 'the state database state.db belongs here; see `stagecraft state list`\n');
}

/** Throws STATE_MISSING (exit 2) when the database is gone or empty while the app shows it was used. */
export function assertStateNotLost(statePath: string): void {
  const present = existsSync(statePath) && statSync(statePath).size > 0;
  if (present) return;
  const evidence = usedBefore(statePath);
  if (evidence.length === 0) return;
  const what = existsSync(statePath) ? 'is empty' : 'is missing';
  throw new StagecraftError(
    'STATE_MISSING',
    `the state database ${statePath} ${what}, but this app was used before (${evidence.join(', ')}): its releases, ledger, versions and secrets are not there`,
    {
      hint:
        wayBack(statePath, 'restore the newest backup') + '; to start anew on purpose, move .stagecraft/ away first',
    },
  );
}

/** The error for a database SQLite cannot read, naming the newest good backup. */
export function corruptState(statePath: string, cause: unknown): StagecraftError {
  return new StagecraftError(
    'STATE_CORRUPT',
    `the state database ${statePath} is corrupt: ${(cause as Error)?.message ?? String(cause)}`,
    {
      hint: wayBack(statePath, 'restore the newest good backup'),
      cause,
    },
  );
}

export function isCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code);
}

function wayBack(statePath: string, verb: string): string {
  const good = newestGoodBackup(statePath);
  if (!good)
    return `no good backup exists in ${join(dirname(statePath), 'backups')}; restore one you keep elsewhere with \`stagecraft state restore --from FILE\``;
  return `${verb}, ${good.file} (taken ${good.takenAt}): \`stagecraft state restore\`; what was recorded after ${good.takenAt} is lost`;
}

function usedBefore(statePath: string): string[] {
  const dir = dirname(statePath);
  const nonEmpty = (name: string): boolean => existsSync(join(dir, name)) && readdirSync(join(dir, name)).length > 0;
  const evidence: string[] = [];
  if (nonEmpty('artifacts')) evidence.push('.stagecraft/artifacts holds artifacts');
  if (nonEmpty('logs')) evidence.push('.stagecraft/logs holds logs');
  if (listBackups(statePath).length > 0) evidence.push('.stagecraft/backups holds backups');
  if (existsSync(join(dir, MARKER))) evidence.push(`.stagecraft/${MARKER} says a database was here`);
  return evidence;
}
