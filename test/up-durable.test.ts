/**
 * Queues are durable: `kill -9` of `up` with 1,000 messages queued and in flight loses none.
 * After a restart every message is processed or in the dead-letter queue; duplicates are
 * allowed (at-least-once) and counted.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StateStore } from '../src/state/index.js';
import { copyApp, runCli } from './helpers/cli.js';
import { startUp } from './helpers/up.js';
import { eventually } from './helpers/wait.js';

const TOTAL = 1_000;

describe('up: queue durability', () => {
  const app = copyApp('durable');
  const out = join(app.dir, 'processed.txt');
  afterAll(() => app.remove());

  const processed = () => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean).map(Number) : []);

  it('loses no message when up is killed with SIGKILL mid-stream', async () => {
    writeFileSync(out, '');
    for (const args of [['build'], ['deploy', 'dev']]) {
      const result = await runCli([...args, '--dir', app.dir], { env: { DURABLE_OUT: out } });
      expect(result.code, result.stderr).toBe(0);
    }
    const store = StateStore.open(join(app.dir, '.stagecraft', 'state.db'));
    store.transaction(() => {
      for (let n = 1; n <= TOTAL; n++) store.queues.send('durable-jobs-dev', JSON.stringify({ n }));
    });

    // The handler reports what it processed in a file of the test's: outside its sandbox, so none here.
    const unsandboxed = { STAGECRAFT_SANDBOX: 'off' };
    const first = await startUp(app.dir, { ports: 2, env: unsandboxed });
    await eventually(async () => (processed().length >= 250 ? true : undefined), 30_000, '250 processed');
    await first.stop('SIGKILL');
    const beforeRestart = processed().length;
    expect(beforeRestart).toBeLessThan(TOTAL);

    const second = await startUp(app.dir, { ports: 2, env: unsandboxed });
    const dlq = () => store.queues.counts('durable-jobs-dlq-dev');
    await eventually(
      async () => {
        const seen = new Set(processed());
        const { visible, inFlight } = dlq();
        return seen.size + visible + inFlight >= TOTAL &&
          store.queues.counts('durable-jobs-dev').visible + store.queues.counts('durable-jobs-dev').inFlight === 0
          ? true
          : undefined;
      },
      60_000,
      'every message processed or dead-lettered',
    );
    expect(await second.stop()).toBe(0);

    const all = processed();
    const unique = new Set(all);
    const deadLettered = dlq().visible + dlq().inFlight;
    for (let n = 1; n <= TOTAL; n++)
      if (!unique.has(n))
        expect.soft(deadLettered, `message ${n} is neither processed nor dead-lettered`).toBeGreaterThan(0);
    expect(unique.size + deadLettered).toBe(TOTAL);
    console.log(
      `durability: ${TOTAL} messages, ${beforeRestart} processed before SIGKILL, ${all.length - unique.size} duplicates, ${deadLettered} dead-lettered`,
    );
    store.close();
  }, 120_000);
});
