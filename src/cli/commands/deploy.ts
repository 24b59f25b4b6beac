/** `stagecraft deploy <env> [--release R]`: put a release into one environment (smoke, tests, live). */
import type { Command } from 'commander';
import { StagecraftError } from '../../errors.js';
import { deploy } from '../../promotion/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';
import { reportPromotion } from '../promotion-output.js';

export function registerDeploy(program: Command): void {
  withCommonOptions(program.command('deploy <env>').description('put a release into one environment: publish, smoke, tests, then live'))
    .option('--release <release>', 'the release to deploy (default: the newest build)')
    .option('--force', 'deploy into a protected environment (manual gate, or ahead of the chain); needs --reason')
    .option('--reason <text>', 'why the protection is bypassed; recorded in the ledger with who did it')
    .action((env: string, options: CommonOptions & { release?: string; force?: boolean; reason?: string }) => execute(options, async (out) => {
      if (options.force && !options.reason?.trim()) throw new StagecraftError('ARGUMENT_INVALID', '--force needs a --reason, which is recorded in the ledger', { hint: 'e.g. --force --reason "hotfix for incident 42"' });
      if (options.reason !== undefined && !options.force) throw new StagecraftError('ARGUMENT_INVALID', '--reason goes with --force', { hint: 'add --force, or leave --reason out' });
      const force = options.force ? { reason: options.reason?.trim() ?? '' } : undefined;
      return withApp(options.dir, out, async (app) => reportPromotion(out, await deploy(app, env, options.release, force)));
    }));
}
