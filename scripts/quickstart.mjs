#!/usr/bin/env node
// The README quickstart: build examples/shop once, promote that one release dev → staging
// (smoke tests in each), pause at prod's manual gate, approve it, show that all three run
// byte-identical code, then serve every environment with `stagecraft up` until Ctrl-C. Runs the
// real CLI, exactly as a person would.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const app = fileURLToPath(new URL('../examples/shop', import.meta.url));
const port = process.env.STAGECRAFT_PORT ?? '4600';

function stagecraft(...args) {
  process.stderr.write(`\n$ stagecraft ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [`${root}dist/cli/main.js`, ...args, '--dir', app], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

stagecraft('validate');
stagecraft('build');
stagecraft('promote');
// A second run finds the release live everywhere and nothing waiting: approve only what waits.
const waiting =
  JSON.parse(
    spawnSync(process.execPath, [`${root}dist/cli/main.js`, 'status', '--json', '--dir', app], { encoding: 'utf8' })
      .stdout,
  ).promotions ?? [];
for (const promotion of waiting.filter((candidate) => candidate.status === 'awaiting-approval')) {
  stagecraft('approve', promotion.environment, '--by', 'quickstart');
}
stagecraft('status');
process.stderr.write(
  `\nTry: curl http://127.0.0.1:${Number(port) + 1}/health   (dev; staging and prod on the next ports)\n`,
);
stagecraft('up', '--port', port);
