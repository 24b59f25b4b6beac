/**
 * The composition root of every command that works on an app: it loads the manifest, opens
 * the state and artifact stores, and wires the provider. Nothing below `cli/` creates these.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { ArtifactStore } from '../build/index.js';
import { StagecraftError } from '../errors.js';
import { loadManifest } from '../manifest/index.js';
import type { AppContext } from '../promotion/index.js';
import { LocalProvider } from '../providers/index.js';
import { StateStore } from '../state/index.js';
import type { Output } from './output.js';

export interface OpenedApp extends AppContext {
  close(): void;
}

export function stateFile(appDir: string): string {
  return join(appDir, '.stagecraft', 'state.db');
}

/**
 * Opens the app in `dir`. With `readOnly`, an app that has no state yet is shown as empty
 * instead of having a database created for it: looking never changes anything.
 */
export async function openApp(dir: string, out: Output, options: { readOnly?: boolean } = {}): Promise<OpenedApp> {
  const loaded = await loadManifest(dir);
  const { manifest, appDir } = loaded;
  if (manifest.provider !== 'local') {
    throw new StagecraftError('ARGUMENT_INVALID', `provider "${manifest.provider}" is not available in this version of Stagecraft`, {
      hint: 'use `provider: local` (the embedded runtime) for now',
    });
  }
  const path = stateFile(appDir);
  const store = options.readOnly && !existsSync(path) ? StateStore.open(':memory:') : StateStore.open(path);
  const artifacts = ArtifactStore.forApp(appDir);
  const provider = new LocalProvider({ store, artifacts, region: manifest.region, warn: (message) => out.warn(message) });
  let actor: string | undefined;
  return {
    loaded, store, artifacts, provider, env: process.env, report: out,
    // Asked for only by commands that record something: `up` starts without running git.
    get actor() {
      actor ??= resolveActor(appDir);
      return actor;
    },
    close: () => store.close(),
  };
}

/** Who is acting: STAGECRAFT_ACTOR (for CI), else the git user, else the OS user. */
export function resolveActor(appDir: string): string {
  const explicit = process.env['STAGECRAFT_ACTOR']?.trim();
  if (explicit) return explicit;
  try {
    const name = execFileSync('git', ['config', 'user.name'], { cwd: appDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (name) return name;
  } catch {
    // no git, or no user configured: fall through to the OS user
  }
  return userInfo().username;
}

/** Runs `work` on an opened app and closes it whatever happens. */
export async function withApp<T>(dir: string, out: Output, work: (app: OpenedApp) => Promise<T>, options: { readOnly?: boolean } = {}): Promise<T> {
  const app = await openApp(dir, out, options);
  try {
    return await work(app);
  } finally {
    app.close();
  }
}
