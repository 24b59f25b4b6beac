/** `stagecraft prune [--keep N] [--yes]`: delete the function versions no alias, rollback or promotion could need. */
import type { Command } from 'commander';
import { DEFAULT_KEEP, prune, type PruneResult } from '../../promotion/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

interface PruneCliOptions extends CommonOptions {
  keep?: string;
  yes?: boolean;
}

export function registerPrune(program: Command): void {
  withCommonOptions(
    program.command('prune').description('delete function versions nothing could need again (dry run unless --yes)'),
  )
    .option(
      '--keep <n>',
      `releases live in each environment that stay within reach of a rollback (default ${DEFAULT_KEEP})`,
    )
    .option('--yes', 'delete; without it, only list what would be deleted')
    .action((options: PruneCliOptions) =>
      execute(options, async (out) =>
        withApp(options.dir, out, async (app) => {
          const keep =
            options.keep === undefined ? undefined : /^\d+$/.test(options.keep) ? Number(options.keep) : Number.NaN;
          out.result(await prune(app, { ...(keep === undefined ? {} : { keep }), yes: options.yes === true }), render);
        }),
      ),
    );
}

function render(result: PruneResult): string {
  const lines = [
    result.applied
      ? `deleted ${result.deleted} version(s); kept what the last ${result.keep} release(s) of each environment need`
      : `would delete ${result.deleted} version(s) (dry run: \`stagecraft prune --yes\` deletes them)`,
  ];
  for (const entry of result.instances) {
    lines.push('', `${entry.instance}`);
    for (const kept of entry.kept) lines.push(`  keep   v${kept.version} ${kept.release}  ${kept.reasons.join('; ')}`);
    for (const gone of entry.deleted)
      lines.push(`  ${result.applied ? 'deleted' : 'delete'} v${gone.version} ${gone.release}`);
  }
  return lines.join('\n');
}
