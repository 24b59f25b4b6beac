/** `stagecraft init [dir]`: a small app that validates, builds and deploys as it stands. */
import type { Command } from 'commander';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { StagecraftError } from '../../errors.js';
import { MANIFEST_FILE, RUNTIMES } from '../../manifest/index.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

const MANIFEST = (
  app: string,
  runtime: string,
  python: boolean,
) => `# Stagecraft manifest: the app, its chain of environments and its functions (see the README).
app: ${app}
runtime: ${runtime}

config:
  GREETING: hello

environments:
  - name: dev
    config: { GREETING: hello from dev }
  - name: prod
    approval: manual

functions:
  hello:
${python ? '    code: src\n    handler: hello.handler  # hello.py, function handler; requirements.txt beside it is vendored\n' : '    handler: src/hello.handler\n'}    memory: 256
    timeout: 10
    events:
      - http: GET /hello

smoke:
  - name: says-hello
    invoke: hello
    event: { rawPath: /hello, requestContext: { http: { method: GET } } }
    expect: { status: 200, bodyContains: hello }
`;

/** Runtimes init has a handler for: Node and Python (provided runtimes need a bootstrap of the user's own). */
const SCAFFOLD_RUNTIMES: readonly string[] = RUNTIMES.filter((runtime) => !runtime.startsWith('provided'));

const HANDLER = `// An API Gateway HTTP API (payload 2.0) handler. Config arrives as environment variables.
export const handler = async (event: { rawPath?: string }) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ message: process.env.GREETING, path: event.rawPath, environment: process.env.STAGECRAFT_ENV }),
});
`;

const PYTHON_HANDLER = `"""An API Gateway HTTP API (payload 2.0) handler. Config arrives as environment variables."""
import json
import os


def handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({
            "message": os.environ.get("GREETING"),
            "path": event.get("rawPath"),
            "environment": os.environ.get("STAGECRAFT_ENV"),
        }),
    }
`;

export function registerInit(program: Command): void {
  withCommonOptions(
    program
      .command('init [dir]')
      .description('scaffold an app')
      .option('--runtime <runtime>', `the app's runtime: ${SCAFFOLD_RUNTIMES.join(', ')}`, 'nodejs22.x'),
  ).action((dir: string | undefined, options: CommonOptions & { runtime: string }) =>
    execute(options, async (out) => {
      if (!SCAFFOLD_RUNTIMES.includes(options.runtime)) {
        throw new StagecraftError('ARGUMENT_INVALID', `init cannot scaffold runtime "${options.runtime}"`, {
          hint: `use one of ${SCAFFOLD_RUNTIMES.join(', ')}`,
        });
      }
      const python = options.runtime.startsWith('python');
      const appDir = resolve(options.dir, dir ?? '.');
      const manifest = join(appDir, MANIFEST_FILE);
      if (existsSync(manifest)) {
        throw new StagecraftError('ARGUMENT_INVALID', `${manifest} already exists`, {
          hint: 'init creates new apps only; edit the existing manifest instead',
        });
      }
      const app =
        basename(appDir)
          .toLowerCase()
          .replace(/[^a-z0-9-]+/g, '-')
          .replace(/^[^a-z]+/, '')
          .slice(0, 31) || 'app';
      const files: Record<string, string> = {
        [MANIFEST_FILE]: MANIFEST(app, options.runtime, python),
        ...(python
          ? {
              'src/hello.py': PYTHON_HANDLER,
              'src/requirements.txt': '# one pip requirement a line, vendored into the artifact at build\n',
            }
          : { 'src/hello.ts': HANDLER }),
        '.gitignore': python ? '.stagecraft/\n__pycache__/\n.venv/\n' : '.stagecraft/\nnode_modules/\n',
      };
      const written: string[] = [];
      for (const [file, text] of Object.entries(files)) {
        const path = join(appDir, file);
        if (existsSync(path)) continue;
        mkdirSync(join(path, '..'), { recursive: true });
        writeFileSync(path, text);
        written.push(file);
      }
      out.result(
        { app, dir: appDir, files: written },
        (r) => `created ${r.app} in ${r.dir}: ${r.files.join(', ')}\nnext: stagecraft build && stagecraft deploy dev`,
      );
    }),
  );
}
