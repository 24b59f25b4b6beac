#!/usr/bin/env node
// The README quickstart: build examples/shop once, deploy that release to dev and staging, and
// show that both run byte-identical code. Runs the real CLI, exactly as a person would.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const app = fileURLToPath(new URL('../examples/shop', import.meta.url));

function stagecraft(...args) {
  process.stderr.write(`\n$ stagecraft ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [`${root}dist/cli/main.js`, ...args, '--dir', app], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

stagecraft('validate');
stagecraft('build');
stagecraft('deploy', 'dev');
stagecraft('deploy', 'staging');
stagecraft('status');
stagecraft('invoke', 'api', '--env', 'staging', '--data', '{"rawPath":"/health","requestContext":{"http":{"method":"GET"}}}');
