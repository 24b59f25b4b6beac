/** `stagecraft approve <env> [--release R] [--by NAME]`: open a manual gate; the paused promotion continues. */
import type { Command } from 'commander';
import { StagecraftError } from '../../errors.js';
import { approve, diffEnvironments, type PromotionState } from '../../promotion/index.js';
import { resolveActor, withApp, type OpenedApp } from '../app.js';
import type { Output } from '../output.js';
import { renderDiff } from './diff.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';
import { interruptible, reportPromotion } from '../promotion-output.js';

export function registerApprove(program: Command): void {
  withCommonOptions(
    program.command('approve <env>').description('approve the promotion waiting at <env>; it moves live and continues'),
  )
    .option(
      '--release <release>',
      'approve exactly this release (refused when another one waits); from a CI step, it goes on from the environment before <env>',
    )
    .option('--by <name>', 'who approves (default: STAGECRAFT_ACTOR, the git user, else the OS user)')
    .action((env: string, options: CommonOptions & { by?: string; release?: string }) =>
      execute(options, async (out) => {
        if (options.by !== undefined && !options.by.trim())
          throw new StagecraftError('ARGUMENT_INVALID', '--by needs a name', { hint: 'e.g. --by "Ada Lovelace"' });
        if (options.release !== undefined && !options.release.trim())
          throw new StagecraftError('ARGUMENT_INVALID', '--release needs a release id', {
            hint: 'e.g. --release r7-3fa9c2d1',
          });
        return withApp(options.dir, out, async (app) => {
          await showDiff(app, env, out);
          return reportPromotion(
            out,
            await interruptible(app, () =>
              approve(app, env, options.by?.trim() ?? resolveActor(app.loaded.appDir), options.release?.trim()),
            ),
          );
        });
      }),
    );
}

/** What the approver lets through, on stderr before the gate opens: the release waiting at `env` against what is live there. */
async function showDiff(app: OpenedApp, env: string, out: Output): Promise<void> {
  const paused = app.store.promotions
    .unfinished<PromotionState>()
    .find(
      (record) =>
        record.status === 'awaiting-approval' &&
        record.state.environments.some((progress) => progress.name === env && progress.step === 'awaiting-approval'),
    );
  const chain = app.loaded.manifest.environments.map((environment) => environment.name);
  const from = chain[chain.indexOf(env) - 1];
  if (!paused || from === undefined) return;
  try {
    out.progress(renderDiff(await diffEnvironments(app, from, env, paused.releaseId)));
  } catch (error) {
    out.warn(`cannot show what changes in ${env}: ${(error as Error).message}`);
  }
}
