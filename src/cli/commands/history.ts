/** `stagecraft history [--env ENV] [--function F] [--limit N]`: the ledger, oldest first. */
import type { Command } from 'commander';
import { StagecraftError } from '../../errors.js';
import { describeEntry } from '../../promotion/index.js';
import type { LedgerEntry } from '../../state/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

export function registerHistory(program: Command): void {
  withCommonOptions(program.command('history').description('the ledger: every change of state, who made it and why'))
    .option('--env <env>', 'only this environment')
    .option('--function <function>', 'only this function')
    .option('--limit <n>', 'only the newest N entries')
    .action((options: CommonOptions & { env?: string; function?: string; limit?: string }) =>
      execute(options, async (out) => {
        const limit = options.limit === undefined ? undefined : Number(options.limit);
        if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
          throw new StagecraftError(
            'ARGUMENT_INVALID',
            `--limit must be a whole number above 0, got "${options.limit}"`,
          );
        }
        await withApp(
          options.dir,
          out,
          async (app) => {
            const query = { environment: options.env, function: options.function, limit };
            // With shared state, the team's ledger: what every machine recorded, this one's copied first.
            if (app.sharedLedger) await app.flush();
            const entries = app.sharedLedger ? await app.sharedLedger.list(query) : app.store.ledger.list(query);
            out.result({ entries }, (r) => r.entries.map(line).join('\n') || 'the ledger is empty');
          },
          { readOnly: true },
        );
      }),
    );
}

function line(entry: LedgerEntry): string {
  const where = [entry.environment, entry.function].filter(Boolean).join('/');
  const parts = [
    `#${entry.seq}`,
    entry.at,
    entry.actor,
    entry.operation,
    entry.kind,
    where,
    describeEntry(entry),
    entry.releaseId ?? '',
    entry.commit?.slice(0, 12) ?? '',
  ];
  return parts.filter((part) => part !== '').join('  ');
}
