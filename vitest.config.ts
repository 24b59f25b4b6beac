import { delimiter, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// Two projects: `unit` (src/**, beside the code, for a developer's loop) and `integration`
// (test/**: the built CLI spawned as real processes against fixture apps, moto_server, a browser).
// Both run in forked workers with generous timeouts; `npm test` builds first and runs both.
// test/fixtures/bin/stagecraft (a link to the built CLI) on PATH, as `npm link` puts it for a user: the CLI's
// hints then name `stagecraft …`, and scripts that tests run (smoke commands, CI steps) can call it.
const PATH = `${resolve('test/fixtures/bin')}${delimiter}${process.env['PATH'] ?? ''}`;
const shared = {
  pool: 'forks' as const,
  testTimeout: 60_000,
  hookTimeout: 60_000,
  env: { PATH },
  // @actions/workflow-parser imports its JSON schema without an import attribute, which Node
  // refuses outside a bundler: let Vite transform it (test/ci-generate.test.ts).
  server: { deps: { inline: ['@actions/workflow-parser'] } },
};

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'unit', include: ['src/**/*.test.ts'] } },
      { test: { ...shared, name: 'integration', include: ['test/**/*.test.ts'] } },
    ],
  },
});
