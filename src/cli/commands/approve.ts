/** `stagecraft approve <env> [--by NAME]`: open a manual gate; the paused promotion continues. */
import type { Command } from 'commander';
import { StagecraftError } from '../../errors.js';
import { approve } from '../../promotion/index.js';
import { resolveActor, withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';
import { interruptible, reportPromotion } from '../promotion-output.js';

export function registerApprove(program: Command): void {
  withCommonOptions(program.command('approve <env>').description('approve the promotion waiting at <env>; it moves live and continues'))
    .option('--by <name>', 'who approves (default: the git user, else the OS user)')
    .action((env: string, options: CommonOptions & { by?: string }) => execute(options, async (out) => {
      if (options.by !== undefined && !options.by.trim()) throw new StagecraftError('ARGUMENT_INVALID', '--by needs a name', { hint: 'e.g. --by "Ada Lovelace"' });
      return withApp(options.dir, out, async (app) => reportPromotion(out, await interruptible(app, () => approve(app, env, options.by?.trim() ?? resolveActor(app.loaded.appDir)))));
    }));
}
