/** `stagecraft diff <from> <to> [--release R]`: what moving a release into `<to>` would change there. */
import type { Command } from 'commander';
import { diffEnvironments, type ConfigKeyChange, type EnvironmentDiff } from '../../promotion/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

export function registerDiff(program: Command): void {
  withCommonOptions(
    program
      .command('diff <from> <to>')
      .description(
        'what a release brings into <to>: code, config (secrets by name and revision), triggers, resources, commits',
      ),
  )
    .option('--release <release>', 'the release to compare (default: the one live in <from>)')
    .action((from: string, to: string, options: CommonOptions & { release?: string }) =>
      execute(options, async (out) =>
        withApp(
          options.dir,
          out,
          async (app) => {
            out.result(await diffEnvironments(app, from, to, options.release), renderDiff);
          },
          { readOnly: true },
        ),
      ),
    );
}

function configLine(change: ConfigKeyChange): string {
  if (change.secrets) {
    const revisions = change.secrets.map(
      (secret) =>
        `secret ${secret.name} ${secret.from === null ? '-' : `@${secret.from}`} → ${secret.to === null ? '-' : `@${secret.to}`}`,
    );
    return `${change.key}: ${revisions.join(', ')}`;
  }
  return `${change.key}: ${change.from ?? '(not set)'} → ${change.to ?? '(not set)'}`;
}

/** For people: one block per function, then resources and commits. Also printed by `approve`. */
export function renderDiff(diff: EnvironmentDiff): string {
  const lines = [
    `${diff.release} into ${diff.to} (now ${diff.liveRelease ?? 'nothing'} live there), compared from ${diff.from}`,
  ];
  for (const fn of diff.functions) {
    const code =
      fn.code === 'changed'
        ? `code changes ${fn.live?.sha256.slice(0, 12)} → ${fn.next?.sha256.slice(0, 12)}`
        : fn.code === 'unchanged'
          ? `code unchanged ${fn.next?.sha256.slice(0, 12)}`
          : fn.code === 'new'
            ? 'new in this environment'
            : 'removed by this release';
    lines.push('', `${fn.function}: ${code}`);
    for (const change of fn.config) lines.push(`  config ${change.change} ${configLine(change)}`);
    for (const trigger of fn.triggers.added) lines.push(`  trigger + ${trigger}`);
    for (const trigger of fn.triggers.removed) lines.push(`  trigger - ${trigger}`);
  }
  const { added, removed, changed } = diff.resources;
  if (added.length + removed.length + changed.length > 0) {
    lines.push('', 'resources');
    for (const [sign, names] of [
      ['+', added],
      ['-', removed],
      ['~', changed],
    ] as const)
      for (const name of names) lines.push(`  ${sign} ${name}`);
  }
  if (diff.commits) lines.push('', `commits (${diff.commits.length})`, ...diff.commits.map((commit) => `  ${commit}`));
  if (!diff.changes) lines.push('', 'nothing changes');
  return lines.join('\n');
}
