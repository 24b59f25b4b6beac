/**
 * `stagecraft up [--port P]`: the local runtime. Admin API and page on P; gateways on P+1… ;
 * warm execution environments, tables, queues and schedules. Runs until SIGINT or SIGTERM,
 * then drains in-flight requests and stops every child process.
 */
import type { Command } from 'commander';
import { StagecraftError } from '../../errors.js';
import { DEFAULT_PREWARM } from '../../providers/index.js';
import { scheduleBackups } from '../../state/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';
import { parsePoolPolicy, parsePort, requireLocalProvider, startLocalRuntime, untilStopped } from '../local-runtime.js';

export const DEFAULT_PORT = 4600;

interface UpOptions {
  port: string;
  backupEvery: string;
  idleTimeout?: string;
  prewarm?: string;
}

export function registerUp(program: Command): void {
  withCommonOptions(
    program.command('up').description('run the local runtime: gateways, functions, queues, tables, dashboard'),
  )
    .option('--port <port>', 'the admin port P; gateways listen on P+1 and up', String(DEFAULT_PORT))
    .option('--backup-every <minutes>', 'back up the state database at most this often while up runs', '10')
    .option('--idle-timeout <duration>', 'stop an execution environment idle this long (default 1m)')
    .option('--prewarm <count>', `routed functions to start before their first request (default ${DEFAULT_PREWARM})`)
    .action((options: CommonOptions & UpOptions) =>
      execute(options, async (out) => {
        const port = parsePort(options.port);
        const policy = parsePoolPolicy(options);
        const backupEvery = Number(options.backupEvery);
        if (!(backupEvery > 0))
          throw new StagecraftError(
            'ARGUMENT_INVALID',
            `--backup-every must be a number of minutes above 0, got "${options.backupEvery}"`,
          );
        await withApp(options.dir, out, async (app) => {
          requireLocalProvider(app, 'up');
          const stopped = untilStopped();
          const runtime = await startLocalRuntime(app, out, port, policy);
          out.result({ ...runtime.urls, login: runtime.login, pid: process.pid }, (r) =>
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
          await runtime.stop();
        });
      }),
    );
}
