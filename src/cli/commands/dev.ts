/**
 * `stagecraft dev [--env E] [--port P] [--smoke]`: `up`, plus a watch on the app; each change is
 * rebuilt and put live in the developer's own environment, and the next request runs it.
 */
import type { Command } from 'commander';
import { incrementalBundler } from '../../release/index.js';
import { devEnvironment } from '../../promotion/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';
import { DevLoop } from '../dev-loop.js';
import { parsePort, requireLocalProvider, startLocalRuntime, untilStopped } from '../local-runtime.js';
import { DEFAULT_PORT } from './up.js';

interface DevOptions extends CommonOptions {
  env?: string;
  port: string;
  smoke?: boolean;
}

export function registerDev(program: Command): void {
  withCommonOptions(
    program
      .command('dev')
      .description("up + watch: changed functions rebuilt and live in the developer's own environment"),
  )
    .option(
      '--env <env>',
      'the environment to run in (default: your ephemeral dev-<who>-<branch>, else the first of the chain)',
    )
    .option('--port <port>', 'the admin port P; gateways listen on P+1 and up', String(DEFAULT_PORT))
    .option('--smoke', 'run the smoke tests before live moves (default: skipped in the inner loop)')
    .action((options: DevOptions) =>
      execute(options, async (out) => {
        const port = parsePort(options.port);
        // --json: one event per line on stdout (ready, then one per reload), for editors and tools.
        const emit = (event: object): void => {
          if (out.json) process.stdout.write(`${JSON.stringify(event)}\n`);
        };
        await withApp(options.dir, out, async (app) => {
          requireLocalProvider(app, 'dev');
          const env = devEnvironment(app, options.env);
          if (env.created) out.progress(`${env.name}: your ephemeral environment, made now`);
          const stopped = untilStopped();
          const bundler = incrementalBundler();
          const loop = new DevLoop({
            app,
            out,
            env: env.name,
            bundler,
            smoke: options.smoke === true,
            emit,
          });
          try {
            // Built and live before the gateways open, so that the first request finds the code.
            await loop.initial();
            // Spares kept for new versions' warm-ups: an early one of their kind no prewarm took among them.
            const runtime = await startLocalRuntime(app, out, port, { keepSpares: true });
            loop.attach(runtime.platform);
            loop.watch();
            const gateway = runtime.urls.environments.find((candidate) => candidate.name === env.name);
            emit({
              event: 'ready',
              environment: env.name,
              url: gateway?.url,
              dashboard: runtime.urls.dashboard,
              login: runtime.login,
              pid: process.pid,
            });
            out.progress(
              `${app.loaded.manifest.app}: dev in ${env.name} at ${gateway?.url ?? '(no gateway)'}; watching for changes, Ctrl-C stops`,
            );
            out.progress(`  dashboard  ${runtime.urls.dashboard}`);
            const signal = await stopped;
            out.progress(`${signal}: draining in-flight requests and stopping`);
            await loop.close();
            await runtime.stop();
          } finally {
            // Also when the runtime failed to start: the loop's zip workers would keep the process up.
            await loop.close();
            await bundler.dispose();
          }
        });
      }),
    );
}
