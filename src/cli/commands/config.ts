/**
 * `stagecraft config show <env>` and `stagecraft config diff <a> <b>`: the resolved config of
 * every function, secrets masked, each value with where it comes from.
 */
import type { Command } from 'commander';
import type { ConfigEntry } from '../../manifest/index.js';
import { diffConfig, showConfig, type ConfigDiff, type ConfigView } from '../../promotion/index.js';
import { withApp } from '../app.js';
import { execute, EXIT_CODES_HELP, withCommonOptions, type CommonOptions } from '../command.js';

interface ConfigOptions extends CommonOptions {
  release?: string;
}

export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description('the resolved config of each function, secrets masked')
    .addHelpText('after', EXIT_CODES_HELP);
  withCommonOptions(
    config
      .command('show <env>')
      .description('every key of every function: value (secrets masked) and where it comes from'),
  )
    .option('--release <release>', 'use the manifest of this release instead of stagecraft.yml')
    .action((env: string, options: ConfigOptions) =>
      execute(options, async (out) =>
        withApp(
          options.dir,
          out,
          async (app) => {
            const view = showConfig(app, env, options.release);
            if (view.missing.length > 0)
              out.warn(
                `${view.missing.length} reference(s) have no value for ${env}; a deploy there would stop:\n  ${view.missing.join('\n  ')}`,
              );
            out.result(view, renderShow);
          },
          { readOnly: true },
        ),
      ),
    );
  withCommonOptions(
    config
      .command('diff <a> <b>')
      .description('the keys whose values differ between two environments, and where each comes from'),
  )
    .option('--release <release>', 'use the manifest of this release instead of stagecraft.yml')
    .action((a: string, b: string, options: ConfigOptions) =>
      execute(options, async (out) =>
        withApp(
          options.dir,
          out,
          async (app) => {
            out.result(diffConfig(app, a, b, options.release), renderDiff);
          },
          { readOnly: true },
        ),
      ),
    );
}

function shown(entry: ConfigEntry): string {
  return entry.value ?? `(no value: ${entry.missing.join(', ')})`;
}

function origin(entry: ConfigEntry): string {
  if (entry.source.layer === 'stagecraft') return 'provided by stagecraft';
  return entry.source.raw.includes('${') ? `${entry.source.path} = ${entry.source.raw}` : entry.source.path;
}

function renderShow(view: ConfigView): string {
  const lines = [`config of ${view.environment} from ${view.manifest} (secrets masked)`];
  for (const { function: fn, entries } of view.functions) {
    lines.push('', fn);
    const width = Math.max(...entries.map((entry) => entry.key.length), 3);
    const valueWidth = Math.min(40, Math.max(...entries.map((entry) => shown(entry).length), 5));
    for (const entry of entries)
      lines.push(`  ${entry.key.padEnd(width)}  ${shown(entry).padEnd(valueWidth)}  ${origin(entry)}`);
  }
  return lines.join('\n');
}

function renderDiff(diff: ConfigDiff): string {
  const lines = [
    `config that differs between ${diff.a} and ${diff.b}, from ${diff.manifest} (secrets masked; secret values are never compared)`,
  ];
  let any = false;
  for (const { function: fn, keys } of diff.functions) {
    if (keys.length === 0) continue;
    any = true;
    lines.push('', fn);
    const width = Math.max(...keys.map((key) => key.key.length));
    for (const key of keys) {
      const side = (name: string, entry: ConfigEntry | null): string =>
        `${name}: ${entry ? `${shown(entry)}  (${origin(entry)})` : '(not set)'}`;
      const note = key.status === 'secret' ? '  [secret in both: values not compared]' : '';
      lines.push(`  ${key.key.padEnd(width)}  ${side(diff.a, key.a)}${note}`);
      lines.push(`  ${''.padEnd(width)}  ${side(diff.b, key.b)}`);
    }
  }
  if (!any)
    lines.push('', 'no differences (variables Stagecraft provides, STAGECRAFT_*, differ by design and are left out)');
  return lines.join('\n');
}
