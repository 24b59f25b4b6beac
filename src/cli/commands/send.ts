/**
 * `stagecraft send <queue> --env ENV --data TEXT|@file [--attribute NAME=VALUE ...]`: put a message
 * on a queue of an environment, through the app's provider: locally it is written to the state
 * database, so it waits there until a poller (`stagecraft up`) takes it, whether or not one is
 * running now; on aws it goes to the environment's SQS queue.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { StagecraftError } from '../../errors.js';
import { resourceName, withEphemeral } from '../../manifest/index.js';
import { requireEnvironment } from '../../promotion/index.js';
import type { MessageAttributes } from '../../state/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

interface SendOptions extends CommonOptions {
  env: string;
  data: string;
  attribute: string[];
  delay?: string;
}

export function registerSend(program: Command): void {
  withCommonOptions(program.command('send <queue>').description('put a message on a queue'))
    .requiredOption('--env <env>', 'the environment')
    .requiredOption('--data <text>', 'the message body: text, or @file')
    .option(
      '--attribute <name=value>',
      'a message attribute, repeatable; NAME:Number=1 or NAME:Binary=<base64> for other types',
      collect,
      [],
    )
    .option('--delay <seconds>', 'keep the message invisible this long (SQS DelaySeconds, 0-900)')
    .action((queue: string, options: SendOptions) =>
      execute(options, async (out) =>
        withApp(options.dir, out, async (app) => {
          // Ephemeral environments (deploy --ephemeral) are reached like the chain's.
          const manifest = withEphemeral(app.loaded.manifest, app.store.environments.list());
          requireEnvironment(manifest, options.env);
          if (!(queue in manifest.resources.queues)) {
            const queues = Object.keys(manifest.resources.queues);
            throw new StagecraftError('ARGUMENT_INVALID', `no queue "${queue}" in ${manifest.app}`, {
              hint:
                queues.length > 0
                  ? `queues: ${queues.join(', ')}`
                  : 'declare one under resources.queues in stagecraft.yml',
            });
          }
          const attributes = parseAttributes(options.attribute);
          const delayMs = parseDelay(options.delay);
          const body = options.data.startsWith('@')
            ? readBody(resolve(options.dir, options.data.slice(1)))
            : options.data;
          const physical = resourceName(manifest, queue, options.env);
          const { messageId } = await app.provider.sendMessage(physical, body, { attributes, delayMs });
          out.result({ messageId, queue, physicalQueue: physical, environment: options.env }, () => messageId);
        }),
      ),
    );
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `NAME=VALUE` (a String), `NAME:Number=42`, `NAME:Binary=aGk=`, `NAME:String.label=x`. */
export function parseAttributes(specs: readonly string[]): MessageAttributes {
  const attributes: MessageAttributes = {};
  for (const spec of specs) {
    const match = /^([^=:]+)(?::([A-Za-z][\w.-]*))?=(.*)$/s.exec(spec);
    if (!match) {
      throw new StagecraftError('ARGUMENT_INVALID', `--attribute "${spec}" is not NAME=VALUE`, {
        hint: 'e.g. --attribute source=cli or --attribute priority:Number=2',
      });
    }
    const [, name = '', type = 'String', value = ''] = match;
    if (name in attributes) throw new StagecraftError('ARGUMENT_INVALID', `--attribute ${name} is given twice`);
    attributes[name] = type.startsWith('Binary')
      ? { DataType: type, BinaryValue: value }
      : { DataType: type, StringValue: value };
  }
  return attributes;
}

function parseDelay(text: string | undefined): number {
  if (text === undefined) return 0;
  const seconds = Number(text);
  if (!/^\d+$/.test(text) || seconds > 900)
    throw new StagecraftError('ARGUMENT_INVALID', `--delay is a whole number of seconds from 0 to 900, got "${text}"`);
  return seconds * 1_000;
}

function readBody(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (cause) {
    throw new StagecraftError('ARGUMENT_INVALID', `cannot read the message file ${path}`, { cause });
  }
}
