/**
 * `stagecraft destroy <env> [--force --yes]`: remove one environment's instances, stack and data;
 * the ledger and the artifacts stay. A chain environment needs --force and its name typed (or --yes).
 */
import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { destroy, type DestroyResult } from '../../promotion/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

interface DestroyCliOptions extends CommonOptions {
  force?: boolean;
  yes?: boolean;
}

export function registerDestroy(program: Command): void {
  withCommonOptions(
    program
      .command('destroy <env>')
      .description("remove one environment's functions, stack and data (the ledger and artifacts stay)"),
  )
    .option('--force', 'allow destroying an environment of the promotion chain')
    .option('--yes', 'confirm without typing the name (CI)')
    .action((env: string, options: DestroyCliOptions) =>
      execute(options, async (out) =>
        withApp(options.dir, out, async (app) => {
          const chain = app.loaded.manifest.environments.some((candidate) => candidate.name === env);
          const confirmed = options.yes === true || (chain && options.force === true && (await typed(env)));
          out.result(await destroy(app, env, { force: options.force === true, confirmed }), render);
        }),
      ),
    );
}

/** A person types the environment's name on a terminal; without one, only --yes confirms. */
async function typed(env: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (
      (
        await prompt.question(`This removes every function, queue, table and log of ${env}. Type its name to confirm: `)
      ).trim() === env
    );
  } finally {
    prompt.close();
  }
}

function render(result: DestroyResult): string {
  return [
    `destroyed ${result.environment}${result.ephemeral ? ' (ephemeral)' : ''}`,
    ...result.removed.map((line) => `  removed ${line}`),
  ].join('\n');
}
