/**
 * The local runtime as `up` and `dev` both run it: the platform (gateways, warm functions, queues,
 * tables, endpoints) and the dashboard, opened together and stopped together.
 */
import { join } from 'node:path';
import { StagecraftError } from '../errors.js';
import { withEphemeral } from '../manifest/index.js';
import { LocalPlatform, removeUpFile, writeUpFile } from '../providers/index.js';
import { FileLogSink, RuntimeHost } from '../runtime/index.js';
import type { OpenedApp } from './app.js';
import { loginLink, wireDashboard } from './dashboard.js';
import type { Output } from './output.js';

export type RuntimeUrls = Awaited<ReturnType<LocalPlatform['start']>>;

export interface RunningRuntime {
  platform: LocalPlatform;
  urls: RuntimeUrls;
  /** The dashboard's login link (it carries the token). */
  login: string;
  /** Drains in-flight requests and stops every child process. */
  stop(): Promise<void>;
}

export function requireLocalProvider(app: OpenedApp, command: string): void {
  if (app.loaded.manifest.provider === 'local') return;
  // Its versions live on AWS: a local gateway would serve nothing, and smoke tests would take it for the app's.
  throw new StagecraftError(
    'ARGUMENT_INVALID',
    `${command} runs the local runtime, and ${app.loaded.manifest.app} has provider: ${app.loaded.manifest.provider}`,
    {
      hint: 'use `stagecraft invoke` and `stagecraft status` against AWS, or set `provider: local` to run the app on this machine',
    },
  );
}

export function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65_000) {
    throw new StagecraftError('ARGUMENT_INVALID', `--port must be a port number from 1 to 65000, got "${text}"`);
  }
  return port;
}

/** Opens the gateways and the dashboard on `port` and up, and writes the up file other commands read. */
export async function startLocalRuntime(app: OpenedApp, out: Output, port: number): Promise<RunningRuntime> {
  const logSink = new FileLogSink(join(app.loaded.appDir, '.stagecraft', 'logs'));
  const host = new RuntimeHost({ logSink, warn: (message) => out.warn(message) });
  let urls: RuntimeUrls | undefined;
  // Ephemeral environments get their gateways after the chain's, oldest first.
  const loaded = { ...app.loaded, manifest: withEphemeral(app.loaded.manifest, app.store.environments.list()) };
  const platform = new LocalPlatform({
    loaded,
    store: app.store,
    artifacts: app.artifacts,
    host,
    port,
    warn: (message) => out.warn(message),
    secrets: app.secrets,
  });
  const { dashboard, token } = wireDashboard(app, out, {
    urls: () => urls?.environments ?? [],
    // Loaded when the dashboard first asks, not before the gateways open.
    statusDocument: async () => ({
      ...(await (await import('../promotion/index.js')).appStatus(app)),
      urls,
      functions: host.stats(),
    }),
    sync: () => platform.refreshAliases(),
  });
  try {
    urls = await platform.start();
    await dashboard.listen(port);
  } catch (error) {
    await Promise.all([platform.stop(), dashboard.close()]);
    await logSink.close();
    throw translateListenError(error, port);
  }
  // Tells other commands (smoke tests) where this environment's gateways are.
  writeUpFile(app.loaded.appDir, {
    pid: process.pid,
    admin: urls.dashboard,
    environments: urls.environments,
    endpoints: urls.endpoints,
  });
  return {
    platform,
    urls,
    login: loginLink(urls.dashboard, token),
    stop: async () => {
      removeUpFile(app.loaded.appDir, process.pid);
      await Promise.all([dashboard.close(), platform.stop()]);
      await logSink.close();
    },
  };
}

/** Resolves with the signal's name on the first SIGINT or SIGTERM. */
export function untilStopped(): Promise<string> {
  return new Promise<string>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal));
  });
}

function translateListenError(error: unknown, port: number): unknown {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'EADDRINUSE') {
    return new StagecraftError('ARGUMENT_INVALID', `a port from ${port} up is already in use`, {
      hint: 'another `stagecraft up` may be running; pass --port with a free range',
      cause: error,
    });
  }
  return error;
}
