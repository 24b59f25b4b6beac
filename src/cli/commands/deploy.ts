/**
 * `stagecraft deploy <env> [--release R]`: put a release into one environment (smoke, tests, live);
 * `deploy --ephemeral [--name WHO/BRANCH]`: the same into the developer's own environment, made first.
 */
import type { Command } from 'commander';
import { StagecraftError } from '../../errors.js';
import { parseDuration } from '../../manifest/index.js';
import { deploy, deployEphemeral } from '../../promotion/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';
import { interruptible, reportPromotion } from '../promotion-output.js';

interface DeployOptions extends CommonOptions {
  release?: string;
  ephemeral?: boolean;
  name?: string;
  ttl?: string;
  force?: boolean;
  reason?: string;
}

export function registerDeploy(program: Command): void {
  withCommonOptions(
    program.command('deploy [env]').description('put a release into one environment: publish, smoke, tests, then live'),
  )
    .option('--release <release>', 'the release to deploy (default: the newest build)')
    .option('--ephemeral', "deploy to the developer's own environment dev-<who>-<branch>, made (or renewed) first")
    .option(
      '--name <who/branch>',
      'with --ephemeral: whose environment, for which branch (default: the git user and branch)',
    )
    .option('--ttl <duration>', "with --ephemeral: how long it lives from now (default: the manifest's ephemeral.ttl)")
    .option('--force', 'deploy into a protected environment (manual gate, or ahead of the chain); needs --reason')
    .option('--reason <text>', 'why the protection is bypassed; recorded in the ledger with who did it')
    .action((env: string | undefined, options: DeployOptions) =>
      execute(options, async (out) => {
        if (options.ephemeral === true && env !== undefined) {
          throw new StagecraftError(
            'ARGUMENT_INVALID',
            `deploy --ephemeral names its environment itself, and got "${env}" too`,
            { hint: 'use --name <who>/<branch>' },
          );
        }
        if (options.ephemeral !== true && (options.name !== undefined || options.ttl !== undefined)) {
          throw new StagecraftError('ARGUMENT_INVALID', '--name and --ttl go with --ephemeral', {
            hint: 'stagecraft deploy --ephemeral --name alice/login',
          });
        }
        if (options.ephemeral !== true && env === undefined) {
          throw new StagecraftError('ARGUMENT_INVALID', 'deploy needs an environment, or --ephemeral', {
            hint: 'stagecraft deploy dev, or stagecraft deploy --ephemeral',
          });
        }
        if (options.force && !options.reason?.trim())
          throw new StagecraftError('ARGUMENT_INVALID', '--force needs a --reason, which is recorded in the ledger', {
            hint: 'e.g. --force --reason "hotfix for incident 42"',
          });
        if (options.reason !== undefined && !options.force)
          throw new StagecraftError('ARGUMENT_INVALID', '--reason goes with --force', {
            hint: 'add --force, or leave --reason out',
          });
        const force = options.force ? { reason: options.reason?.trim() ?? '' } : undefined;
        const ttlMs = options.ttl === undefined ? undefined : parseDuration(options.ttl);
        if (options.ttl !== undefined && ttlMs === undefined) {
          throw new StagecraftError('ARGUMENT_INVALID', `--ttl "${options.ttl}" is not a duration`, {
            hint: 'e.g. --ttl 72h, --ttl 30m',
          });
        }
        return withApp(options.dir, out, async (app) => {
          if (env !== undefined)
            return reportPromotion(out, await interruptible(app, () => deploy(app, env, options.release, force)));
          const made = await deployEphemeral(app, {
            ...(options.name === undefined ? {} : { name: options.name }),
            ...(options.release === undefined ? {} : { release: options.release }),
            ...(ttlMs === undefined ? {} : { ttlMs }),
          });
          out.progress(
            `${made.environment.name}: owner ${made.environment.owner}, branch ${made.environment.branch}, expires ${made.environment.expiresAt}`,
          );
          return reportPromotion(out, made.outcome, { ephemeral: made.environment });
        });
      }),
    );
}
