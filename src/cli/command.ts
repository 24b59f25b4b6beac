/**
 * The shape every command shares: `--dir` and `--json`, one place that turns a thrown error
 * into its exit code, and the exit code set without cutting stdout short.
 */
import type { Command } from 'commander';
import { createOutput, type Output } from './output.js';

export interface CommonOptions { dir: string; json?: boolean }

export function withCommonOptions(command: Command): Command {
  return command.option('--dir <dir>', 'the app folder', '.').option('--json', 'print one JSON document on stdout');
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
