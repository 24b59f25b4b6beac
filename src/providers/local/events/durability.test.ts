/**
 * At-least-once under SIGKILL: a consumer process works through 1,000 queued messages, is
 * killed mid-way, and is started again. Every message must end up processed or in the
 * dead-letter queue; duplicates (processed, killed before the delete) are counted and reported.
 *
 * The consumer is plain JavaScript (a child process cannot import TypeScript), run against a
 * bundle of the store and the poller built here with esbuild from the sources, so the test
 * never depends on a stale or half-built `dist/`. The bundle sits inside this checkout: the store
 * loads better-sqlite3 with a `require` of its own (src/state/sqlite.ts), resolved from where the
 * bundle is.
 */
import { build } from 'esbuild';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateStore } from '../../../state/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const HARNESS = join(ROOT, 'test', 'fixtures', 'events', 'consumer.mjs');
const Q = 'shop-orders-dev';
const DLQ = 'shop-orders-dlq-dev';
const TOTAL = 1_000;
const POISON_EVERY = 50;

describe('queue durability', () => {
  let dir: string;
  let bundleDir: string;
  let bundle: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-durability-'));
    mkdirSync(join(ROOT, '.tmp-apps'), { recursive: true });
    bundleDir = mkdtempSync(join(ROOT, '.tmp-apps', 'durability-'));
    bundle = join(bundleDir, 'events.mjs');
    const require = createRequire(join(ROOT, 'package.json'));
    await build({
      stdin: {
        contents:
          "export { StateStore } from './src/state/index.ts';\nexport { QueuePoller } from './src/providers/local/events/queue-poller.ts';\n",
        resolveDir: ROOT,
        loader: 'ts',
        sourcefile: 'durability-entry.ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: bundle,
      logLevel: 'silent',
      // Packages stay outside the bundle, loaded from this checkout by absolute path.
      plugins: [
        {
          name: 'absolute-packages',
          setup(esbuild) {
            esbuild.onResolve({ filter: /^[^./]/ }, (args) =>
              args.path.startsWith('node:')
                ? { path: args.path, external: true }
                : { path: require.resolve(args.path), external: true },
            );
          },
        },
      ],
    });
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(bundleDir, { recursive: true, force: true });
  });

  function startConsumer(
    database: string,
    log: string,
  ): { child: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
    const child = spawn(process.execPath, [HARNESS, bundle, database, log, Q, DLQ], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolvePromise) => child.on('exit', (code) => resolvePromise(code)));
    return { child, exited, stderr: () => stderr };
  }

  const lines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : []);

  it('loses nothing when the consumer is killed with SIGKILL mid-way', async () => {
    const database = join(dir, 'state.db');
    const log = join(dir, 'processed.log');
    writeFileSync(log, '');
    const store = StateStore.open(database);
    const ids = store.queues.sendMany(
      Q,
      Array.from({ length: TOTAL }, (_, index) => ({
        body: index % POISON_EVERY === 0 ? `poison ${index}` : `order ${index}`,
      })),
    );
    const poison = new Set(ids.filter((_, index) => index % POISON_EVERY === 0));
    store.close();

    const first = startConsumer(database, log);
    const deadline = Date.now() + 20_000;
    while (lines(log).length < 300) {
      if (Date.now() > deadline) throw new Error(`the consumer made no progress: ${first.stderr()}`);
      await new Promise((resolvePromise) => setTimeout(resolvePromise, 2));
    }
    first.child.kill('SIGKILL');
    await first.exited;
    const beforeKill = new Set(lines(log)).size;
    expect(beforeKill).toBeLessThan(TOTAL - poison.size);

    const second = startConsumer(database, log);
    const timeout = setTimeout(() => second.child.kill('SIGKILL'), 30_000);
    const code = await second.exited;
    clearTimeout(timeout);
    expect(code, second.stderr()).toBe(0);

    const processed = lines(log);
    const unique = new Set(processed);
    const check = StateStore.open(database);
    const deadLettered = new Set(check.queues.list(DLQ, { limit: TOTAL }).map((message) => message.messageId));
    const left = check.queues.counts(Q);
    check.close();

    const duplicates = processed.length - unique.size;
    console.log(
      `durability: ${TOTAL} messages, killed after ${beforeKill} processed; ${unique.size} processed, ${deadLettered.size} dead-lettered, ${duplicates} processed twice`,
    );
    expect(ids.filter((id) => !unique.has(id) && !deadLettered.has(id))).toEqual([]);
    expect(deadLettered).toEqual(poison);
    expect([...unique].filter((id) => poison.has(id))).toEqual([]);
    expect(left).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    // Only batches in flight at the kill can run twice: two lanes of ten.
    expect(duplicates).toBeLessThanOrEqual(20);
  });
});
