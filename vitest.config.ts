import { defineConfig } from 'vitest/config';

// Integration tests spawn the built CLI (dist/) as real processes against fixture apps, so they
// run in forked workers with generous timeouts; `npm test` builds before it runs them.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // @actions/workflow-parser imports its JSON schema without an import attribute, which Node
    // refuses outside a bundler: let Vite transform it (test/ci-generate.test.ts).
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
