/** `stagecraft status`: environments × functions — live and smoke version, release, sha256, since. */
import type { Command } from 'commander';
import { appStatus, type AliasStatus, type AppStatus } from '../../promotion/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

export function registerStatus(program: Command): void {
  withCommonOptions(
    program.command('status').description('what runs where: live and smoke versions per environment'),
  ).action((options: CommonOptions) =>
    execute(options, async (out) =>
      withApp(
        options.dir,
        out,
        async (app) => {
          out.result(await appStatus(app), render);
        },
        { readOnly: true },
      ),
    ),
  );
}

function cell(alias: AliasStatus | null): string {
  if (!alias) return '-';
  const split = alias.extra ? ` + v${alias.extra.version} ${Math.round(alias.extra.weight * 100)}%` : '';
  return `v${alias.version}${split} ${alias.release} ${alias.sha256.slice(0, 12)}`;
}

function render(status: AppStatus): string {
  const lines = [
    `${status.app} (${status.strategy}, ${status.provider}); newest release: ${status.latestRelease ?? 'none'}`,
  ];
  for (const environment of status.environments) {
    const own = environment.ephemeral;
    lines.push(
      '',
      own
        ? `${environment.name}  (ephemeral: ${own.owner}, branch ${own.branch}, from ${own.from}; created ${own.createdAt}, expires ${own.expiresAt})`
        : environment.name,
    );
    for (const fn of environment.functions) {
      const since = fn.live
        ? `  since ${fn.live.since}${fn.live.commit ? ` from ${fn.live.commit.slice(0, 12)}` : ''}`
        : '';
      lines.push(`  ${fn.function.padEnd(16)} live ${cell(fn.live).padEnd(44)} smoke ${cell(fn.smoke)}${since}`);
    }
  }
  for (const promotion of status.promotions) {
    lines.push(
      '',
      promotion.status === 'awaiting-approval'
        ? `${promotion.id}: ${promotion.release} awaits approval in ${promotion.environment} (since ${promotion.since}); \`stagecraft approve ${promotion.environment}\``
        : `${promotion.id}: ${promotion.kind} of ${promotion.release} is ${promotion.status} in ${promotion.environment}; if no command is running, \`stagecraft promote --resume\``,
    );
  }
  return lines.join('\n');
}
