/**
 * `stagecraft dashboard [--port P] [--host H]`: the web dashboard without a local runtime — for
 * `provider: aws` it reads the shared state and AWS through the Provider. Runs until SIGINT or SIGTERM.
 */
import type { Command } from 'commander';
import { StagecraftError } from '../../errors.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';
import { loginLink, wireDashboard } from '../dashboard.js';

export function registerDashboard(program: Command): void {
  withCommonOptions(
    program
      .command('dashboard')
      .description('serve the web dashboard: what runs where, the timeline, approve and roll back'),
  )
    .option('--port <port>', 'the port (0: any free port)', '4600')
    .option('--host <host>', 'the address to listen on', '127.0.0.1')
    .action((options: CommonOptions & { port: string; host: string }) =>
      execute(options, async (out) => {
        const port = Number(options.port);
        if (!Number.isInteger(port) || port < 0 || port > 65_535) {
          throw new StagecraftError(
            'ARGUMENT_INVALID',
            `--port must be a port number from 0 to 65535, got "${options.port}"`,
          );
        }
        if (!options.host.trim())
          throw new StagecraftError('ARGUMENT_INVALID', '--host needs an address', { hint: 'e.g. --host 127.0.0.1' });
        await withApp(options.dir, out, async (app) => {
          const { dashboard, token } = wireDashboard(app, out);
          const stopped = new Promise<string>((resolve) => {
            for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve(signal));
          });
          let bound: number;
          try {
            bound = await dashboard.listen(port, options.host);
          } catch (error) {
            await dashboard.close();
            const code = (error as NodeJS.ErrnoException)?.code;
            if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL') {
              throw new StagecraftError(
                'ARGUMENT_INVALID',
                `cannot listen on ${options.host}:${port}: ${code === 'EADDRINUSE' ? 'the port is in use' : 'no such local address'}`,
                {
                  hint: 'pass a free --port, or a --host of this machine',
                  cause: error,
                },
              );
            }
            throw error;
          }
          const wildcard = options.host === '0.0.0.0' || options.host === '::';
          const host = wildcard ? '127.0.0.1' : options.host.includes(':') ? `[${options.host}]` : options.host;
          const url = `http://${host}:${bound}`;
          out.result({ dashboard: url, login: loginLink(url, token), pid: process.pid }, (r) =>
            [
              `dashboard of ${app.loaded.manifest.app} (${app.loaded.manifest.provider}) on ${r.dashboard} (pid ${r.pid}); Ctrl-C stops it`,
              `  login  ${r.login}  (the link signs this browser in to act: approve, roll back, resume)`,
            ].join('\n'),
          );
          const signal = await stopped;
          out.progress(`${signal}: stopping the dashboard`);
          await dashboard.close();
        });
      }),
    );
}
