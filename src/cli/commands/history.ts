/** `stagecraft history [--env ENV] [--function F] [--limit N]`: the ledger, oldest first. */
import type { Command } from 'commander';
import { StagecraftError } from '../../errors.js';
import type { LedgerEntry } from '../../state/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

export function registerHistory(program: Command): void {
  withCommonOptions(program.command('history').description('the ledger: every change of state, who made it and why'))
    .option('--env <env>', 'only this environment')
    .option('--function <function>', 'only this function')
    .option('--limit <n>', 'only the newest N entries')
    .action((options: CommonOptions & { env?: string; function?: string; limit?: string }) => execute(options, async (out) => {
      const limit = options.limit === undefined ? undefined : Number(options.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
        throw new StagecraftError('ARGUMENT_INVALID', `--limit must be a whole number above 0, got "${options.limit}"`);
      }
      await withApp(options.dir, out, async (app) => {
        const query = { environment: options.env, function: options.function, limit };
        // With shared state, the team's ledger: what every machine recorded, this one's copied first.
        if (app.sharedLedger) await app.flush();
        const entries = app.sharedLedger ? await app.sharedLedger.list(query) : app.store.ledger.list(query);
        out.result({ entries }, (r) => r.entries.map(line).join('\n') || 'the ledger is empty');
      }, { readOnly: true });
    }));
}

function line(entry: LedgerEntry): string {
  const where = [entry.environment, entry.function].filter(Boolean).join('/');
  const parts = [`#${entry.seq}`, entry.at, entry.actor, entry.operation, entry.kind, where, what(entry), entry.releaseId ?? '', entry.commit?.slice(0, 12) ?? ''];
  return parts.filter((part) => part !== '').join('  ');
}

/** The one thing worth reading about an entry, by its kind: where an alias went, a test's verdict, why a promotion ended. */
function what(entry: LedgerEntry): string {
  const detail = entry.detail;
  const text = (key: string): string => (typeof detail[key] === 'string' ? (detail[key] as string) : '');
  const promotion = text('promotion');
  switch (entry.kind) {
    case 'alias.moved':
      return `${entry.alias} → v${entry.version}${entry.previousVersion === null ? '' : ` (was v${entry.previousVersion})`}${detail['rollback'] === true || entry.operation === 'rollback' ? ` rollback${text('reason') ? `: ${text('reason')}` : ''}` : ''}`;
    case 'alias.deleted':
      return `${entry.alias} removed (was v${entry.previousVersion ?? '?'})${text('reason') ? `: ${text('reason')}` : ''}`;
    case 'version.published':
      return `v${entry.version}`;
    case 'smoke.passed':
    case 'smoke.failed': {
      const failure = Array.isArray(detail['failure']) ? `: ${String(detail['failure'][0] ?? '')}` : '';
      return `${promotion} ${text('test')} (${String(detail['durationMs'] ?? '?')} ms)${failure}`;
    }
    case 'promotion.started':
      return `${promotion} ${Array.isArray(detail['chain']) ? (detail['chain'] as string[]).join(' → ') : ''}${text('skipSoakReason') ? ` (soak skipped: ${text('skipSoakReason')})` : ''}`;
    case 'promotion.approved':
      return `${promotion} approved by ${text('approvedBy')}`;
    case 'promotion.failed': {
      const rolledBack = Array.isArray(detail['rolledBack']) ? (detail['rolledBack'] as string[]).join(', ') : '';
      return `${promotion} ${text('reason')}${rolledBack ? `; rolled back ${rolledBack}` : ''}`;
    }
    case 'promotion.refused':
    case 'promotion.superseded':
      return `${promotion} ${text('reason')}`;
    case 'deploy.forced':
      return `forced: ${text('reason')}`;
    case 'soak.skipped':
      return `${promotion} soak ${text('soak')} skipped: ${text('reason')}`;
    case 'secret.set':
    case 'secret.removed':
      return String(detail['name'] ?? '');
    case 'lock.taken-over':
      return `from ${JSON.stringify(detail['from'])}`;
    default:
      return promotion;
  }
}
