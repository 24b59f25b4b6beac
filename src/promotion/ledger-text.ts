/** One ledger entry in words, as `history` and the dashboard's timeline show it. */
import type { LedgerEntry } from '../state/index.js';

/** The one thing worth reading about an entry, by its kind: where an alias went, a test's verdict, why a promotion ended. */
export function describeEntry(entry: LedgerEntry): string {
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
    case 'release.dev-loop':
      return detail['promotable'] === true
        ? 'built by dev from a clean tree'
        : 'built by dev from uncommitted changes; not promotable';
    case 'lock.taken-over':
      return `from ${JSON.stringify(detail['from'])}`;
    default:
      return promotion;
  }
}
