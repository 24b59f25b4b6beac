/** `stagecraft invoke <function> --env ENV [--alias live|smoke] [--data JSON|@file]`: run one version once. */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EXIT, StagecraftError } from '../../errors.js';
import { aliasName, instanceName, withEphemeral } from '../../manifest/index.js';
import { requireEnvironment } from '../../promotion/index.js';
import { assertPayloadSize } from '../../runtime/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

interface InvokeOptions extends CommonOptions {
  env: string;
  alias: string;
  data?: string;
}

export function registerInvoke(program: Command): void {
  withCommonOptions(program.command('invoke <function>').description('invoke a function version through an alias'))
    .requiredOption('--env <env>', 'the environment')
    .option('--alias <alias>', 'live or smoke', 'live')
    .option('--data <json>', 'the event: JSON text, or @file', '{}')
    .action((fn: string, options: InvokeOptions) =>
      execute(options, async (out) =>
        withApp(options.dir, out, async (app) => {
          // Ephemeral environments (deploy --ephemeral) are reached like the chain's.
          const manifest = withEphemeral(app.loaded.manifest, app.store.environments.list());
          requireEnvironment(manifest, options.env);
          if (!(fn in manifest.functions)) {
            throw new StagecraftError('FUNCTION_UNKNOWN', `no function "${fn}" in ${manifest.app}`, {
              hint: `functions: ${Object.keys(manifest.functions).join(', ')}`,
            });
          }
          if (options.alias !== 'live' && options.alias !== 'smoke') {
            throw new StagecraftError('ARGUMENT_INVALID', `--alias must be live or smoke, got "${options.alias}"`);
          }
          const payload = readEvent(options.data ?? '{}', options.dir);
          const instance = instanceName(manifest, fn, options.env);
          const outcome = await app.provider.invoke({
            instance,
            qualifier: aliasName(manifest, options.env, options.alias),
            payload,
          });
          if (!out.json) for (const log of outcome.logs) process.stderr.write(`${log}\n`);
          const common = {
            function: fn,
            environment: options.env,
            alias: options.alias,
            instance,
            requestId: outcome.requestId,
            durationMs: outcome.durationMs,
            logs: outcome.logs,
          };
          if (outcome.ok) {
            out.result({ ...common, payload: parseJson(outcome.payload) }, () => outcome.payload);
            return EXIT.ok;
          }
          // A function error is the function's answer, not a Stagecraft failure: print it like Lambda does, exit 1.
          if (out.json)
            process.stdout.write(
              `${JSON.stringify({ ok: false, ...common, error: outcome.error, cause: outcome.cause }, null, 2)}\n`,
            );
          else process.stdout.write(`${JSON.stringify(outcome.error)}\n`);
          return EXIT.failed;
        }),
      ),
    );
}

function readEvent(data: string, dir: string): string {
  const text = data.startsWith('@') ? readFile(resolve(dir, data.slice(1))) : data;
  assertPayloadSize(text, 'sync'); // before parsing 60 MB only to be refused
  try {
    JSON.parse(text);
  } catch (cause) {
    throw new StagecraftError('ARGUMENT_INVALID', `--data is not valid JSON: ${(cause as Error).message}`, {
      hint: 'pass a JSON document, e.g. --data \'{"id":"1"}\', or --data @event.json',
      cause,
    });
  }
  return text;
}

function readFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw new StagecraftError('ARGUMENT_INVALID', `cannot read the event file ${path}`, { cause });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
