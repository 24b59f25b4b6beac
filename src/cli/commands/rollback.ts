/** `stagecraft rollback <env> [--to R|VERSION] [--function F] [--reason …]`: point live back. */
import type { Command } from 'commander';
import { rollback } from '../../promotion/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

export function registerRollback(program: Command): void {
  withCommonOptions(
    program
      .command('rollback <env>')
      .description('point live back: to the previous live version, a release (r7) or a version number'),
  )
    .option('--to <target>', 'a release (r7, r7-3fa9c2d1) or, with --function, a version number')
    .option('--function <function>', 'only this function')
    .option('--reason <text>', 'why; recorded in the ledger')
    .action((env: string, options: CommonOptions & { to?: string; function?: string; reason?: string }) =>
      execute(options, async (out) =>
        withApp(options.dir, out, async (app) => {
          const result = await rollback(app, env, {
            ...(options.to !== undefined ? { to: options.to } : {}),
            ...(options.function !== undefined ? { function: options.function } : {}),
            ...(options.reason !== undefined ? { reason: options.reason } : {}),
          });
          out.result(result, (r) =>
            [
              `${r.environment}: live now ${r.functions.map((fn) => `${fn.function} v${fn.to} (${fn.release || 'no release'})`).join(', ')}`,
              ...r.functions.map(
                (fn) =>
                  `  ${fn.function.padEnd(20)} ${fn.moved ? `rolled back v${fn.from} → v${fn.to}` : `already on v${fn.to}`}`,
              ),
            ].join('\n'),
          );
        }),
      ),
    );
}
