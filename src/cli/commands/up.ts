/**
 * `stagecraft up [--port P]`: the local runtime. Admin API and page on P; gateways on P+1… ;
 * warm execution environments, tables, queues and schedules. Runs until SIGINT or SIGTERM,
 * then drains in-flight requests and stops every child process.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { StagecraftError } from '../../errors.js';
import { withEphemeral } from '../../manifest/index.js';
import { LocalPlatform, removeUpFile, writeUpFile } from '../../providers/index.js';
import { FileLogSink, RuntimeHost } from '../../runtime/index.js';
import { scheduleBackups } from '../../state/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';
import { loginLink, wireDashboard } from '../dashboard.js';

export const DEFAULT_PORT = 4600;

export function registerUp(program: Command): void {
  withCommonOptions(
    program.command('up').description('run the local runtime: gateways, functions, queues, tables, dashboard'),
  )
    .option('--port <port>', 'the admin port P; gateways listen on P+1 and up', String(DEFAULT_PORT))
    .option('--backup-every <minutes>', 'back up the state database at most this often while up runs', '10')
    .action((options: CommonOptions & { port: string; backupEvery: string }) =>
      execute(options, async (out) => {
        const port = Number(options.port);
        const backupEvery = Number(options.backupEvery);
        if (!(backupEvery > 0))
          throw new StagecraftError(
            'ARGUMENT_INVALID',
            `--backup-every must be a number of minutes above 0, got "${options.backupEvery}"`,
          );
        if (!Number.isInteger(port) || port < 1 || port > 65_000) {
          throw new StagecraftError(
            'ARGUMENT_INVALID',
            `--port must be a port number from 1 to 65000, got "${options.port}"`,
          );
        }
        await withApp(options.dir, out, async (app) => {
          if (app.loaded.manifest.provider !== 'local') {
            // Its versions live on AWS: a local gateway would serve nothing, and smoke tests would take it for the app's.
            throw new StagecraftError(
              'ARGUMENT_INVALID',
              `up runs the local runtime, and ${app.loaded.manifest.app} has provider: ${app.loaded.manifest.provider}`,
              {
                hint: 'use `stagecraft invoke` and `stagecraft status` against AWS, or set `provider: local` to run the app on this machine',
              },
            );
          }
          const logSink = new FileLogSink(join(app.loaded.appDir, '.stagecraft', 'logs'));
          const host = new RuntimeHost({ logSink, warn: (message) => out.warn(message) });
          let urls: Awaited<ReturnType<LocalPlatform['start']>> | undefined;
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
              ...(await (await import('../../promotion/index.js')).appStatus(app)),
              urls,
              functions: host.stats(),
            }),
            sync: () => platform.refreshAliases(),
          });
          const stopped = new Promise<string>((resolve) => {
            for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal));
          });
          try {
            urls = await platform.start();
            await dashboard.listen(port);
          } catch (error) {
            await Promise.all([platform.stop(), dashboard.close()]);
            throw translateListenError(error, port);
          }
          // Tells other commands (smoke tests) where this environment's gateways are.
          writeUpFile(app.loaded.appDir, {
            pid: process.pid,
            admin: urls.dashboard,
            environments: urls.environments,
            endpoints: urls.endpoints,
          });
          out.result({ ...urls, login: loginLink(urls.dashboard, token), pid: process.pid }, (r) =>
            [
              `${app.loaded.manifest.app} is up (pid ${r.pid}); Ctrl-C stops it`,
              `  dashboard  ${r.dashboard}`,
              `  login      ${r.login}  (the link signs this browser in to act: approve, roll back, resume)`,
              ...r.environments.map((env) => `  ${env.name.padEnd(10)} ${env.url}`),
              '  AWS endpoints (SQS, SNS, Lambda) of each environment:',
              ...r.endpoints.map((env) => `  ${env.name.padEnd(10)} ${env.url}`),
            ].join('\n'),
          );
          const backups = scheduleBackups(app.store, backupEvery * 60_000, (message) => out.warn(message));
          const signal = await stopped;
          backups.stop();
          out.progress(`${signal}: draining in-flight requests and stopping`);
          removeUpFile(app.loaded.appDir, process.pid);
          await Promise.all([dashboard.close(), platform.stop()]);
          await logSink.close();
        });
      }),
    );
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
