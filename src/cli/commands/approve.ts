/** `stagecraft approve <env> [--release R] [--by NAME]`: open a manual gate; the paused promotion continues. */
import type { Command } from 'commander';
import { StagecraftError } from '../../errors.js';
import { approve } from '../../promotion/index.js';
import { resolveActor, withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';
import { reportPromotion } from '../promotion-output.js';

export function registerApprove(program: Command): void {
  withCommonOptions(program.command('approve <env>').description('approve the promotion waiting at <env>; it moves live and continues'))
    .option('--release <release>', 'approve exactly this release (refused when another one waits); from a CI step, it goes on from the environment before <env>')
    .option('--by <name>', 'who approves (default: STAGECRAFT_ACTOR, the git user, else the OS user)')
    .action((env: string, options: CommonOptions & { by?: string; release?: string }) => execute(options, async (out) => {
      if (options.by !== undefined && !options.by.trim()) throw new StagecraftError('ARGUMENT_INVALID', '--by needs a name', { hint: 'e.g. --by "Ada Lovelace"' });
      if (options.release !== undefined && !options.release.trim()) throw new StagecraftError('ARGUMENT_INVALID', '--release needs a release id', { hint: 'e.g. --release r7-3fa9c2d1' });
      return withApp(options.dir, out, async (app) => reportPromotion(out, await approve(app, env, options.by?.trim() ?? resolveActor(app.loaded.appDir), options.release?.trim())));
    }));
}
