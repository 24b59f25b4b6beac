/**
 * `stagecraft secret set|list|rm <env> [NAME]`: the local secret store. A value is read from
 * stdin (or typed at a prompt that does not echo), never taken from an argument: arguments stay
 * in shell history and are visible to every user in the process list.
 */
import type { Command } from 'commander';
import { StagecraftError } from '../../errors.js';
import { secretReferences } from '../../manifest/index.js';
import { requireEnvironment } from '../../promotion/index.js';
import { MAX_SECRET_BYTES } from '../../secrets/index.js';
import type { SecretSummary } from '../../state/index.js';
import { withApp } from '../app.js';
import { execute, EXIT_CODES_HELP, withCommonOptions, type CommonOptions } from '../command.js';

export function registerSecret(program: Command): void {
  const secret = program
    .command('secret')
    .description('the local secret store (values from stdin only)')
    .addHelpText('after', EXIT_CODES_HELP);

  withCommonOptions(
    secret
      .command('set <env> <name>')
      .description('set a secret for an environment; the value is read from stdin or a prompt'),
  )
    .argument('[rest...]')
    // Unknown options land in `rest` instead of being echoed in commander's error: `--value=…` would print the value.
    .allowUnknownOption(true)
    .action((env: string, name: string, rest: string[], options: CommonOptions) =>
      execute(options, async (out) => {
        if (rest.length > 0) {
          throw new StagecraftError('ARGUMENT_INVALID', 'secret set takes no value on the command line', {
            hint: `pipe it on stdin (\`printf %s "$VALUE" | stagecraft secret set ${env} ${name}\`) or run it in a terminal to be prompted; arguments stay in shell history and the process list`,
          });
        }
        await withApp(options.dir, out, async (app) => {
          requireEnvironment(app.loaded.manifest, env);
          const value = await readValue(`value of ${name} for ${env} (not echoed): `);
          const { revision, createdKeyFile } = app.secrets.set(env, name, value, app.actor);
          if (createdKeyFile)
            out.warn(
              `made a new secret key in ${createdKeyFile} (mode 0600); keep a copy: without it these secrets cannot be opened`,
            );
          if (!secretReferences(app.loaded.manifest, env).has(name))
            out.warn(`nothing in stagecraft.yml uses \${secret:${name}} in ${env} yet`);
          out.result(
            { environment: env, name, revision },
            (r) => `set ${r.name} for ${r.environment} (revision ${r.revision}); deploy ${r.environment} to use it`,
          );
        });
      }),
    );

  withCommonOptions(
    secret
      .command('list <env>')
      .description('the secrets of an environment: names and when they changed, never values'),
  ).action((env: string, options: CommonOptions) =>
    execute(options, async (out) =>
      withApp(
        options.dir,
        out,
        async (app) => {
          requireEnvironment(app.loaded.manifest, env);
          const used = secretReferences(app.loaded.manifest, env);
          const stored = app.secrets.list(env);
          type Listed = { name: string; set: boolean; usedBy: string[] } & Partial<SecretSummary>;
          const secrets: Listed[] = [
            ...stored.map((summary) => ({ ...summary, set: true, usedBy: used.get(summary.name) ?? [] })),
            ...[...used]
              .filter(([name]) => !stored.some((summary) => summary.name === name))
              .map(([name, usedBy]) => ({ name, set: false, usedBy })),
          ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
          out.result({ environment: env, secrets }, (r) =>
            [
              `secrets of ${r.environment} (values are never shown)`,
              ...r.secrets.map((entry) => {
                const state = entry.set
                  ? `set ${entry.changedAt} by ${entry.changedBy} (revision ${entry.revision})`
                  : 'NOT SET';
                return `  ${entry.name.padEnd(24)} ${state}${entry.usedBy.length > 0 ? `  used by ${entry.usedBy.join(', ')}` : '  not used by stagecraft.yml'}`;
              }),
            ].join('\n'),
          );
        },
        { readOnly: true },
      ),
    ),
  );

  withCommonOptions(
    secret.command('rm <env> <name>').description('delete a secret (every revision) from an environment'),
  ).action((env: string, name: string, options: CommonOptions) =>
    execute(options, async (out) =>
      withApp(options.dir, out, async (app) => {
        requireEnvironment(app.loaded.manifest, env);
        const revisions = app.secrets.remove(env, name, app.actor);
        const usedBy = secretReferences(app.loaded.manifest, env).get(name) ?? [];
        if (usedBy.length > 0)
          out.warn(
            `${usedBy.join(', ')} still use \${secret:${name}}: deploying ${env} will stop until it is set again, and versions that used it can no longer start`,
          );
        out.result(
          { environment: env, name, revisions },
          (r) => `removed ${r.name} from ${r.environment} (${r.revisions} revision(s))`,
        );
      }),
    ),
  );
}

/** The value: typed at a prompt that does not echo when stdin is a terminal, else all of stdin less one final newline. */
async function readValue(prompt: string): Promise<string> {
  const value = process.stdin.isTTY ? await promptHidden(prompt) : (await readAll()).replace(/\r?\n$/, '');
  if (value.length === 0) {
    throw new StagecraftError('ARGUMENT_INVALID', 'no value was given on stdin', {
      hint: 'pipe the value in, e.g. `printf %s "$VALUE" | stagecraft secret set <env> <name>`, or run it in a terminal to be prompted',
    });
  }
  return value;
}

async function readAll(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > MAX_SECRET_BYTES + 2)
      throw new StagecraftError('ARGUMENT_INVALID', `the value on stdin is longer than ${MAX_SECRET_BYTES} bytes`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function promptHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    let value = '';
    const done = (error?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (text: string): void => {
      for (const char of text) {
        if (char === '\r' || char === '\n') return done();
        if (char === '\u0003') return done(new StagecraftError('ARGUMENT_INVALID', 'cancelled; nothing was changed'));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    stdin.on('data', onData);
  });
}
