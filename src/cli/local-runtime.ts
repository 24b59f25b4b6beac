/**
 * The local runtime as `up` and `dev` both run it: the platform (gateways, warm functions, queues,
 * tables, endpoints) and the dashboard, opened together and stopped together.
 */
import { join } from 'node:path';
import { StagecraftError } from '../errors.js';
import { parseDuration, withEphemeral } from '../manifest/index.js';
import { LocalPlatform, removeUpFile, writeUpFile } from '../providers/index.js';
import { FileLogSink, RuntimeHost } from '../runtime/index.js';
import type { OpenedApp } from './app.js';
import { loginLink, wireDashboard } from './dashboard.js';
import { takeEarlySpares } from './early-spares.js';
import type { Output } from './output.js';

export type RuntimeUrls = Awaited<ReturnType<LocalPlatform['start']>>;

/**
 * How long an idle execution environment is kept before it is stopped. Lambda keeps them for
 * minutes, not documented; locally a runtime process holds ~60 MB, so an app of many functions
 * gives its memory back after a minute without traffic, and the next request is a cold start.
 */
export const DEFAULT_IDLE_MS = 60_000;

/** The environment pool's policy (`up --idle-timeout`, `--prewarm`; `dev`'s spares). */
export interface PoolPolicy {
  /** Default DEFAULT_IDLE_MS. */
  idleMs?: number;
  /** Routed functions started before their first request; default DEFAULT_PREWARM (providers). */
  prewarm?: number;
  /** `dev`: runtime processes kept booted ahead for new versions (src/runtime/spare-runtime.ts). */
  keepSpares?: boolean;
}

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
  // Its versions live on AWS: a local gateway would serve nothing.
  throw new StagecraftError(
    'ARGUMENT_INVALID',
    `${command} runs the local runtime, and ${app.loaded.manifest.app} has provider: ${app.loaded.manifest.provider}`,
    {
      hint: 'use `stagecraft invoke` and `stagecraft status` against AWS, or set `provider: local` to run the app on this machine',
    },
  );
}

/** `--idle-timeout` (a duration: `30s`, `5m`) and `--prewarm` (a count) of `up`. */
export function parsePoolPolicy(options: { idleTimeout?: string; prewarm?: string }): PoolPolicy {
  const policy: PoolPolicy = {};
  if (options.idleTimeout !== undefined) {
    const ms = parseDuration(options.idleTimeout);
    if (ms === undefined || ms < 100)
      throw new StagecraftError(
        'ARGUMENT_INVALID',
        `--idle-timeout must be a duration of at least 100ms, such as 30s or 5m, got "${options.idleTimeout}"`,
      );
    policy.idleMs = ms;
  }
  if (options.prewarm !== undefined) {
    const count = Number(options.prewarm);
    if (!Number.isInteger(count) || count < 0)
      throw new StagecraftError(
        'ARGUMENT_INVALID',
        `--prewarm must be a whole number of functions, 0 or more, got "${options.prewarm}"`,
      );
    policy.prewarm = count;
  }
  return policy;
}

export function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65_000) {
    throw new StagecraftError('ARGUMENT_INVALID', `--port must be a port number from 1 to 65000, got "${text}"`);
  }
  return port;
}

/** Opens the gateways and the dashboard on `port` and up, and writes the up file other commands read. */
export async function startLocalRuntime(
  app: OpenedApp,
  out: Output,
  port: number,
  policy: PoolPolicy = {},
): Promise<RunningRuntime> {
  const logSink = new FileLogSink(join(app.loaded.appDir, '.stagecraft', 'logs'));
  const early = await takeEarlySpares(app.loaded.appDir);
  const host = new RuntimeHost({
    logSink,
    warn: (message) => out.warn(message),
    idleMs: policy.idleMs ?? DEFAULT_IDLE_MS,
    ...(early === undefined ? {} : { sandbox: early.sandbox, spares: early.spares }),
  });
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
    ...(policy.prewarm === undefined ? {} : { prewarm: policy.prewarm }),
    ...(policy.keepSpares === true ? { keepSpares: true } : {}),
  });
  const { dashboard, token } = wireDashboard(app, out, {
    urls: () => urls?.environments ?? [],
    // Loaded when the dashboard first asks, not before the gateways open.
    statusDocument: async () => ({
      ...(await (await import('../promotion/index.js')).appStatus(app)),
      urls,
      functions: host.stats(),
      starts: host.starts(),
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
