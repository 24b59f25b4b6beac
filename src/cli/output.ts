/**
 * How the CLI speaks: results on stdout (one JSON document with --json, text otherwise),
 * progress and warnings on stderr, colour only when stderr is a terminal. Errors are formatted
 * for people here and nowhere else.
 */
import { inspect } from 'node:util';
import { EXIT, exitCodeOf, isStagecraftError } from '../errors.js';
import { commandRewriter, invocationName } from './invocation.js';

export interface Output {
  readonly json: boolean;
  /** A line of progress, on stderr. */
  progress(message: string): void;
  warn(message: string): void;
  /** The command's result: JSON on stdout with --json, else the text `render` makes of it. */
  result<T>(value: T, render: (value: T) => string): void;
  /** Reports a failure and returns the exit code for it. */
  failure(error: unknown): number;
}

const paint = (enabled: boolean) => (code: number, text: string) =>
  enabled ? `\u001b[${code}m${text}\u001b[0m` : text;

export function createOutput(options: {
  json: boolean;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** How the user reaches this CLI (`stagecraft`, `npx stagecraft`, `node dist/cli/main.js`); found lazily. */
  invocation?: () => string;
}): Output {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const color = paint('isTTY' in stderr && stderr.isTTY === true && !process.env['NO_COLOR']);
  const say = commandRewriter(
    options.invocation ??
      (() => invocationName({ script: process.argv[1] ?? '', path: process.env['PATH'] ?? '', cwd: process.cwd() })),
  );
  return {
    json: options.json,
    progress: (message) => stderr.write(`${color(2, say(message))}\n`),
    warn: (message) => stderr.write(`${color(33, `warning: ${say(message)}`)}\n`),
    result(value, render) {
      if (options.json) stdout.write(`${JSON.stringify({ ok: true, ...asObject(value) }, null, 2)}\n`);
      else {
        const text = render(value);
        if (text) stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      }
    },
    failure(error) {
      const code = exitCodeOf(error);
      if (options.json) {
        const body = isStagecraftError(error)
          ? error.toJSON()
          : { code: 'INTERNAL', kind: 'failed', message: String((error as Error)?.message ?? error) };
        stdout.write(`${JSON.stringify({ ok: false, error: body }, null, 2)}\n`);
      }
      if (isStagecraftError(error)) {
        stderr.write(`${color(31, 'error:')} ${say(error.message)}\n`);
        for (const line of error.details) stderr.write(`  ${say(line)}\n`);
        if (error.hint) stderr.write(`${color(36, 'hint:')} ${say(error.hint)}\n`);
      } else {
        // Not one of ours: a bug. Say so, with the stack, instead of pretending it was bad input.
        stderr.write(
          `${color(31, 'internal error:')} ${error instanceof Error ? (error.stack ?? error.message) : inspect(error)}\n`,
        );
        stderr.write('This is a bug in Stagecraft; please report it with the command you ran.\n');
      }
      return code === EXIT.ok ? EXIT.failed : code;
    },
  };
}

function asObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : { value };
}
