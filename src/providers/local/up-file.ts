/**
 * Where a running `stagecraft up` says it is: `.stagecraft/up.json` with its pid and URLs,
 * written when it starts serving and removed when it stops. Other commands (smoke tests) use
 * it to reach the environments' gateways; a file left by a killed `up` is recognised by its
 * pid being gone.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processIsAlive } from '../../state/index.js';

export interface UpFile {
  pid: number;
  /** The admin endpoint (`POST /api/sync` makes `up` read alias changes now). */
  admin: string;
  environments: { name: string; url: string }[];
  /** Each environment's SQS, SNS and Lambda endpoint. */
  endpoints?: { name: string; url: string }[];
}

export function upFilePath(appDir: string): string {
  return join(appDir, '.stagecraft', 'up.json');
}

export function writeUpFile(appDir: string, content: UpFile): void {
  writeFileSync(upFilePath(appDir), `${JSON.stringify(content, null, 2)}\n`);
}

/** Removes the file if it is still this process's (a newer `up` may have replaced it). */
export function removeUpFile(appDir: string, pid: number): void {
  if (readUpFile(appDir)?.pid === pid) rmSync(upFilePath(appDir), { force: true });
}

/**
 * The URL of `environment`'s gateway in the `up` running for `appDir`, once that `up` has read
 * every alias change (its admin endpoint answers `POST /api/sync` after reading them); undefined
 * when no live `up` serves it.
 */
export async function upGatewayUrl(appDir: string, environment: string): Promise<string | undefined> {
  const up = readUpFile(appDir);
  const served = up?.environments.find((candidate) => candidate.name === environment);
  if (up === undefined || served === undefined || !processIsAlive(up.pid)) return undefined;
  try {
    const response = await fetch(`${up.admin}/api/sync`, { method: 'POST', signal: AbortSignal.timeout(2_000) });
    return response.ok ? served.url : undefined;
  } catch {
    return undefined;
  }
}

export function readUpFile(appDir: string): UpFile | undefined {
  const path = upFilePath(appDir);
  if (!existsSync(path)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<UpFile>;
    if (typeof parsed.pid !== 'number' || typeof parsed.admin !== 'string' || !Array.isArray(parsed.environments))
      return undefined;
    return parsed as UpFile;
  } catch {
    return undefined;
  }
}
