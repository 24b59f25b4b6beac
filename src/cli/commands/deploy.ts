/** `stagecraft deploy <env> [--release R]`: put a release into one environment (smoke, tests, live). */
import type { Command } from 'commander';
import { deploy } from '../../promotion/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';
import { interruptible, reportPromotion } from '../promotion-output.js';

export function registerDeploy(program: Command): void {
  withCommonOptions(program.command('deploy <env>').description('put a release into one environment: publish, smoke, tests, then live'))
    .option('--release <release>', 'the release to deploy (default: the newest build)')
    .action((env: string, options: CommonOptions & { release?: string }) => execute(options, async (out) => withApp(options.dir, out, async (app) =>
      reportPromotion(out, await interruptible(app, () => deploy(app, env, options.release))))));
}
