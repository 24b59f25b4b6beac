/** `stagecraft gc [--dry-run]`: destroy the ephemeral environments whose time to live is over. */
import type { Command } from 'commander';
import { gc, type GcResult } from '../../promotion/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

export function registerGc(program: Command): void {
  withCommonOptions(program.command('gc').description('destroy expired ephemeral environments'))
    .option('--dry-run', 'only list what would be destroyed')
    .action((options: CommonOptions & { dryRun?: boolean }) =>
      execute(options, async (out) =>
        withApp(options.dir, out, async (app) => {
          out.result(await gc(app, { dryRun: options.dryRun === true }), render);
        }),
      ),
    );
}

function render(result: GcResult): string {
  const lines = [`${result.dryRun ? 'would destroy' : 'destroyed'} ${result.expired.length} expired environment(s)`];
  for (const env of result.expired) lines.push(`  ${env.name}  ${env.owner}/${env.branch}, expired ${env.expiresAt}`);
  for (const env of result.kept) lines.push(`  kept ${env.name}  ${env.owner}/${env.branch}, expires ${env.expiresAt}`);
  return lines.join('\n');
}
