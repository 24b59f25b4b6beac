/**
 * The composition root of every command that works on an app: it loads the manifest, opens
 * the state and artifact stores, and wires the provider. Nothing below `cli/` creates these.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { ArtifactStore } from '../release/index.js';
import { loadManifest } from '../manifest/index.js';
import { SqliteLock, type AppContext } from '../promotion/index.js';
import { LocalProvider } from '../providers/index.js';
import { SecretStore } from '../secrets/index.js';
import { assertStateNotLost, StateStore } from '../state/index.js';
import { openAws, openSharedState } from './aws.js';
import type { Output } from './output.js';

export interface OpenedApp extends AppContext {
  /** The app's secret store itself: `secret` commands set and remove through it. */
  secrets: SecretStore;
  /** Copies what this command committed to the shared state table (a no-op with SQLite state). */
  flush(): Promise<void>;
  /** Changes whenever the ledger or a promotion changes, in any process (and, with shared state, on any machine). */
  changeMark(): Promise<string>;
  /**
   * Starts finding out who acts, off Node's thread, for a command that records it only at its end
   * (`build`); once the promise settles, reading `actor` runs no git.
   */
  prefetchActor(): Promise<void>;
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
  const path = stateFile(appDir);
  assertStateNotLost(path);
  const store = options.readOnly && !existsSync(path) ? StateStore.open(':memory:') : StateStore.open(path);
  const artifacts = ArtifactStore.forApp(appDir);
  // The key is read from the environment or the user's config folder, never from the app.
  const secrets = new SecretStore(store, { env: process.env, appDir });
  // Shared state (DynamoDB) holds the lock and a copy of the ledger; SQLite stays the default.
  const shared = await openSharedState(loaded, out);
  // Ephemeral environments other machines made or destroyed are in the shared ledger.
  if (shared && manifest.ephemeral && store.path !== ':memory:') {
    const entries = await shared.ledger.list();
    store.transaction(() =>
      store.environments.replay(entries.filter((entry) => entry.kind.startsWith('environment.'))),
    );
  }
  const common = {
    loaded,
    store,
    artifacts,
    lock: shared?.lock ?? new SqliteLock(store),
    env: process.env,
    secrets,
    report: out,
    ...(shared ? { sharedLedger: shared.ledger, sharedReleases: () => shared.ledger.releases() } : {}),
    flush: async () => {
      if (shared && store.path !== ':memory:') await shared.sync(store);
    },
    changeMark: async () => (shared ? `${store.changeMark()}|${await shared.ledger.latest()}` : store.changeMark()),
  };
  // Who acts is asked for only by commands that record something: `up` starts without running git.
  let actor: string | undefined;
  let prefetched: Promise<void> | undefined;
  const withActor = <T extends object>(app: T): T & { actor: string; prefetchActor(): Promise<void> } =>
    Object.defineProperties(app, {
      actor: { get: () => (actor ??= resolveActor(appDir)), enumerable: true },
      prefetchActor: {
        value: () =>
          (prefetched ??= resolveActorAsync(appDir).then((name) => {
            actor ??= name;
          })),
      },
    }) as T & { actor: string; prefetchActor(): Promise<void> };
  if (manifest.provider === 'aws') {
    const aws = await openAws(loaded, store, artifacts, out, shared, secrets);
    return withActor({
      ...common,
      provider: aws.provider,
      close: () => {
        aws.close();
        shared?.close();
        store.close();
      },
    });
  }
  const provider = new LocalProvider({
    store,
    artifacts,
    region: manifest.region,
    warn: (message) => out.warn(message),
    secrets,
    manifest,
    appDir: loaded.appDir,
  });
  return withActor({
    ...common,
    provider,
    close: () => {
      shared?.close();
      store.close();
    },
  });
}

/** Who is acting: STAGECRAFT_ACTOR (for CI), else the git user, else the OS user. */
export function resolveActor(appDir: string): string {
  const explicit = process.env['STAGECRAFT_ACTOR']?.trim();
  if (explicit) return explicit;
  try {
    const name = execFileSync('git', GIT_USER, { cwd: appDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return name.trim() || userInfo().username;
  } catch {
    // no git, or no user configured: the OS user
    return userInfo().username;
  }
}

const GIT_USER = ['config', 'user.name'];

/** resolveActor, with git in a process of its own that Node does not wait on. */
async function resolveActorAsync(appDir: string): Promise<string> {
  const explicit = process.env['STAGECRAFT_ACTOR']?.trim();
  if (explicit) return explicit;
  const name = await new Promise<string>((resolve) =>
    execFile('git', GIT_USER, { cwd: appDir, encoding: 'utf8' }, (error, stdout) => resolve(error ? '' : stdout)),
  );
  return name.trim() || userInfo().username;
}

/** Runs `work` on an opened app and closes it whatever happens. */
export async function withApp<T>(
  dir: string,
  out: Output,
  work: (app: OpenedApp) => Promise<T>,
  options: { readOnly?: boolean } = {},
): Promise<T> {
  const app = await openApp(dir, out, options);
  try {
    return await work(app);
  } finally {
    try {
      await app.flush();
    } finally {
      app.close();
    }
  }
}
