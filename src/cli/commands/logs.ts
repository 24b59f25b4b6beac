/**
 * `stagecraft logs <function> --env ENV [--follow] [--limit N]`: the log lines of one function
 * instance — START, the function's own output, END, REPORT — read through the app's provider:
 * locally as `stagecraft up` and `stagecraft invoke` wrote them to
 * `<app>/.stagecraft/logs/<instance>.log`, on aws from the CloudWatch Logs group
 * `/aws/lambda/<instance>`. Text output is `<time> [<version>] <line>`; `--json` gives
 * `{ file | logGroup, lines: [<line>…], entries: [{ time, version, requestId, line }…] }`, oldest first.
 */
import type { Command } from 'commander';
import { EXIT, StagecraftError } from '../../errors.js';
import { instanceName, withEphemeral } from '../../manifest/index.js';
import { requireEnvironment } from '../../promotion/index.js';
import type { LogTail } from '../../providers/index.js';
import type { LogEntry } from '../../runtime/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

interface LogsOptions extends CommonOptions {
  env: string;
  follow?: boolean;
  limit: string;
}

const DEFAULT_LIMIT = '100';

export function registerLogs(program: Command): void {
  withCommonOptions(
    program.command('logs <function>').description("print a function's log lines (START, its output, END, REPORT)"),
  )
    .requiredOption('--env <env>', 'the environment')
    .option('--follow', 'keep printing new lines as they are written, until Ctrl-C')
    .option('--limit <n>', 'print at most the last N lines', DEFAULT_LIMIT)
    .action((fn: string, options: LogsOptions) =>
      execute(options, async (out) =>
        withApp(
          options.dir,
          out,
          async (app) => {
            // Ephemeral environments (deploy --ephemeral) are reached like the chain's.
            const manifest = withEphemeral(app.loaded.manifest, app.store.environments.list());
            requireEnvironment(manifest, options.env);
            if (!(fn in manifest.functions)) {
              throw new StagecraftError('FUNCTION_UNKNOWN', `no function "${fn}" in ${manifest.app}`, {
                hint: `functions: ${Object.keys(manifest.functions).join(', ')}`,
              });
            }
            const limit = Number(options.limit);
            if (!Number.isInteger(limit) || limit < 1) {
              throw new StagecraftError(
                'ARGUMENT_INVALID',
                `--limit must be a whole number of lines from 1 up, got "${options.limit}"`,
              );
            }
            if (options.follow === true && out.json) {
              throw new StagecraftError('ARGUMENT_INVALID', '--follow cannot be combined with --json', {
                hint: 'use --json for a snapshot, or --follow for a live tail',
              });
            }
            const instance = instanceName(manifest, fn, options.env);
            const tail = await app.provider.readLogs(instance, limit);
            const { entries, source } = tail;
            if (out.json) {
              // `lines` as the function and the platform wrote them; `entries` with what the store adds.
              out.result(
                {
                  function: fn,
                  environment: options.env,
                  instance,
                  ...source,
                  lines: entries.map((entry) => entry.line),
                  entries,
                },
                () => '',
              );
              return EXIT.ok;
            }
            if (tail.empty)
              out.progress(`no logs yet for ${instance} (${'file' in source ? source.file : source.logGroup})`);
            print(entries);
            if (options.follow === true) await followUntilInterrupted(tail);
            return EXIT.ok;
          },
          { readOnly: true },
        ),
      ),
    );
}

/** `<time> [<version>] <line>`: the request id is inside the line for every line that has one. */
function print(entries: LogEntry[]): void {
  if (entries.length === 0) return;
  process.stdout.write(entries.map((entry) => `${entry.time} [${entry.version}] ${entry.line}\n`).join(''));
}

async function followUntilInterrupted(tail: LogTail): Promise<void> {
  const stop = new AbortController();
  const interrupt = (): void => stop.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    await tail.follow(print, stop.signal);
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}
