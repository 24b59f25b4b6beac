/**
 * The shape every command shares: `--dir` and `--json`, one place that turns a thrown error
 * into its exit code, and the exit code set without cutting stdout short.
 */
import type { Command } from 'commander';
import { createOutput, type Output } from './output.js';

export interface CommonOptions {
  dir: string;
  json?: boolean;
}

/** DESIGN §4's exit codes, at the end of every command's --help. */
export const EXIT_CODES_HELP = `
Exit codes:
  0  done (a promotion paused at a manual gate is done too)
  1  failed: the operation ran and was rolled back or not applied
  2  invalid input: manifest or arguments; nothing changed
  3  refused by a rule: the lock is held, a gate is closed, a soak time is not over`;

export function withCommonOptions(command: Command): Command {
  return command
    .option('--dir <dir>', 'the app folder (or any folder inside it)', '.')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', EXIT_CODES_HELP);
}

/** Runs a command body; the body returns the exit code (0 unless it says otherwise). */
export async function execute(options: CommonOptions, body: (out: Output) => Promise<number | void>): Promise<void> {
  const out = createOutput({ json: options.json === true });
  try {
    process.exitCode = (await body(out)) ?? 0;
  } catch (error) {
    process.exitCode = out.failure(error);
  }
}
