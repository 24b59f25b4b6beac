/** `stagecraft promote [--release R] [--to ENV] [--resume] [--skip-soak --reason …]`: the promotion loop. */
import type { Command } from 'commander';
import { StagecraftError } from '../../errors.js';
import { promote } from '../../promotion/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';
import { interruptible, reportPromotion } from '../promotion-output.js';

interface PromoteFlags extends CommonOptions {
  release?: string;
  to?: string;
  resume?: boolean;
  skipSoak?: boolean;
  reason?: string;
}

export function registerPromote(program: Command): void {
  withCommonOptions(
    program
      .command('promote')
      .description('promote one release through the chain: smoke, tests, gates, live; roll back on failure'),
  )
    .option('--release <release>', 'the release to promote (default: the newest build)')
    .option('--to <env>', 'the last environment to reach (default: the last of the chain)')
    .option('--resume', 'finish the promotion a crash interrupted')
    .option('--skip-soak', 'pass soak times that are not over yet (needs --reason)')
    .option('--reason <text>', 'why the soak time is skipped; recorded in the ledger')
    .action((options: PromoteFlags) =>
      execute(options, async (out) => {
        if (options.skipSoak && !options.reason?.trim()) {
          throw new StagecraftError(
            'ARGUMENT_INVALID',
            '--skip-soak needs a --reason, which is recorded in the ledger',
            { hint: 'e.g. --skip-soak --reason "hotfix for incident 42"' },
          );
        }
        if (options.reason !== undefined && !options.skipSoak) {
          throw new StagecraftError('ARGUMENT_INVALID', '--reason goes with --skip-soak', {
            hint: 'add --skip-soak, or leave --reason out',
          });
        }
        return withApp(options.dir, out, async (app) =>
          reportPromotion(
            out,
            await interruptible(app, () =>
              promote(app, {
                ...(options.release !== undefined ? { release: options.release } : {}),
                ...(options.to !== undefined ? { to: options.to } : {}),
                ...(options.resume ? { resume: true } : {}),
                ...(options.skipSoak ? { skipSoakReason: options.reason?.trim() ?? '' } : {}),
              }),
            ),
          ),
        );
      }),
    );
}
