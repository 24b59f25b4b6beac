/**
 * `stagecraft logs <function> --env ENV [--follow] [--limit N]`: the log lines of one function
 * instance — START, the function's own output, END, REPORT — as `stagecraft up` and
 * `stagecraft invoke` wrote them to `<app>/.stagecraft/logs/<instance>.log`. Text output is
 * `<time> [<version>] <line>`; `--json` gives `{ lines: [<line>…], entries: [{ time, version,
 * requestId, line }…] }`, oldest first.
 */
import type { Command } from 'commander';
import { EXIT, StagecraftError } from '../../errors.js';
import { instanceName } from '../../manifest/index.js';
import { requireEnvironment } from '../../promotion/index.js';
import { followLog, logDir, logFile, readLogTail, type LogEntry } from '../../runtime/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

interface LogsOptions extends CommonOptions { env: string; follow?: boolean; limit: string }

const DEFAULT_LIMIT = '100';

export function registerLogs(program: Command): void {
  withCommonOptions(program.command('logs <function>').description("print a function's log lines (START, its output, END, REPORT)"))
    .requiredOption('--env <env>', 'the environment')
    .option('--follow', 'keep printing new lines as they are written, until Ctrl-C')
    .option('--limit <n>', 'print at most the last N lines', DEFAULT_LIMIT)
    .action((fn: string, options: LogsOptions) => execute(options, async (out) => withApp(options.dir, out, async (app) => {
      const { manifest, appDir } = app.loaded;
      requireEnvironment(manifest, options.env);
      if (!(fn in manifest.functions)) {
        throw new StagecraftError('FUNCTION_UNKNOWN', `no function "${fn}" in ${manifest.app}`, { hint: `functions: ${Object.keys(manifest.functions).join(', ')}` });
      }
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1) {
        throw new StagecraftError('ARGUMENT_INVALID', `--limit must be a whole number of lines from 1 up, got "${options.limit}"`);
      }
      if (options.follow === true && out.json) {
        throw new StagecraftError('ARGUMENT_INVALID', '--follow cannot be combined with --json', { hint: 'use --json for a snapshot, or --follow for a live tail' });
      }
      const instance = instanceName(manifest, fn, options.env);
      const file = logFile(logDir(appDir), instance);
      const { entries, end } = await readLogTail(file, limit);
      if (out.json) {
        // `lines` as the function and the platform wrote them; `entries` with what the file adds.
        out.result({ function: fn, environment: options.env, instance, file, lines: entries.map((entry) => entry.line), entries }, () => '');
        return EXIT.ok;
      }
      if (entries.length === 0 && end === 0) out.progress(`no logs yet for ${instance} (${file})`);
      print(entries);
      if (options.follow === true) await followUntilInterrupted(file, end);
      return EXIT.ok;
    }, { readOnly: true })));
}

/** `<time> [<version>] <line>`: the request id is inside the line for every line that has one. */
function print(entries: LogEntry[]): void {
  if (entries.length === 0) return;
  process.stdout.write(entries.map((entry) => `${entry.time} [${entry.version}] ${entry.line}\n`).join(''));
}

async function followUntilInterrupted(file: string, from: number): Promise<void> {
  const stop = new AbortController();
  const interrupt = (): void => stop.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    await followLog(file, from, print, stop.signal);
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}
