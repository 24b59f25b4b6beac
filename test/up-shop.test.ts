/**
 * `stagecraft up` serving examples/shop in every environment: routes per environment, orders
 * sent by the API to the queue (SDK v3 SQSClient on the local endpoint) and written by the queue
 * worker into that environment's own table, announced on a topic that fans out to an audit queue,
 * `smoke` reached only on purpose, and alias changes picked up while running.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateStore } from '../src/state/index.js';
import { copyApp, runCli } from './helpers/cli.js';
import { startUp, type RunningUp } from './helpers/up.js';
import { eventually } from './helpers/wait.js';

describe('up: examples/shop', () => {
  const app = copyApp('examples/shop', { insideRepo: true });
  let up: RunningUp;
  let first = '';
  beforeAll(async () => {
    const built = await runCli(['build', '--json', '--dir', app.dir]);
    expect(built.code, built.stderr).toBe(0);
    first = built.json<{ release: string }>().release;
    // As the README quickstart does: promote (dev, staging, then a pause at prod's gate), approve.
    const promoted = await runCli(['promote', '--json', '--dir', app.dir]);
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.json<{ status: string }>().status).toBe('awaiting-approval');
    const approved = await runCli(['approve', 'prod', '--json', '--dir', app.dir]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.json<{ status: string }>().status).toBe('succeeded');
    const status = (await runCli(['status', '--json', '--dir', app.dir])).json<{
      environments: { functions: { function: string; live: { sha256: string; release: string } | null }[] }[];
    }>();
    for (const fn of ['api', 'report', 'worker']) {
      const shas = new Set(
        status.environments.map((env) => env.functions.find((candidate) => candidate.function === fn)?.live?.sha256),
      );
      expect(shas.size, `${fn}: one sha256 across dev, staging and prod`).toBe(1);
    }
    up = await startUp(app.dir, { ports: 4 });
  }, 120_000);
  afterAll(async () => {
    if (up) expect(await up.stop()).toBe(0);
    app.remove();
  });

  const call = async (env: string, path: string, init: RequestInit = {}) => {
    const response = await fetch(`${up.urls[env]}${path}`, init);
    const text = await response.text();
    return { status: response.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
  };

  it('serves every environment on its own gateway port', async () => {
    expect(Object.keys(up.urls)).toEqual(['dev', 'staging', 'prod']);
    for (const env of ['dev', 'staging', 'prod']) {
      const health = await call(env, '/health');
      expect(health.status).toBe(200);
      expect(health.json()).toEqual({ status: 'ok', environment: env, release: first });
    }
    const status = (await (await fetch(`${up.dashboard}/api/status`)).json()) as { environments: { name: string }[] };
    expect(status.environments.map((env) => env.name)).toEqual(['dev', 'staging', 'prod']);
  });

  it("takes orders through the API onto the queue; the worker writes them to that environment's table", async () => {
    const created = await call('dev', '/orders', {
      method: 'POST',
      body: JSON.stringify({ id: 'o-1', item: 'tea', quantity: 2 }),
      headers: { 'content-type': 'application/json' },
    });
    expect(created.status, created.text).toBe(202);
    expect(created.json()).toMatchObject({
      id: 'o-1',
      status: 'queued',
      messageId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    const stored = await eventually(
      async () => {
        const answer = await call('dev', '/orders/o-1');
        return answer.status === 200 ? answer.json() : undefined;
      },
      15_000,
      'order o-1 stored by the worker',
    );
    expect(stored).toMatchObject({ id: 'o-1', item: 'tea', quantity: 2, status: 'stored' });
    expect((await call('staging', '/orders/o-1')).status).toBe(404);
    const listed = (await call('dev', '/orders')).json()['orders'] as { id: string }[];
    expect(listed.map((order) => order.id)).toContain('o-1');
    expect((await call('dev', '/orders', { method: 'POST', body: '{"id":""}' })).status).toBe(400);
  });

  it('announces every stored order on the notify topic, which fans out to the audit queue', async () => {
    const store = StateStore.open(join(app.dir, '.stagecraft', 'state.db'));
    try {
      const audited = await eventually(
        async () => {
          const envelopes = store.queues
            .list('shop-audit-dev')
            .map((message) => JSON.parse(message.body) as { TopicArn: string; Subject: string; Message: string });
          return envelopes.some((envelope) => (JSON.parse(envelope.Message) as { id: string }).id === 'o-1')
            ? envelopes
            : undefined;
        },
        15_000,
        'o-1 on the audit queue',
      );
      expect(audited[0]).toMatchObject({
        TopicArn: 'arn:aws:sns:us-east-1:000000000000:shop-notify-dev',
        Subject: 'order stored',
      });
      expect(store.queues.list('shop-audit-staging').some((message) => message.body.includes('"o-1"'))).toBe(false);
    } finally {
      store.close();
    }
  });

  it('pushes messages sent with `stagecraft send` through the queue worker into the table', async () => {
    for (const id of ['q-1', 'q-2']) {
      const sent = await runCli([
        'send',
        'orders',
        '--env',
        'staging',
        '--data',
        JSON.stringify({ id, item: 'coffee', quantity: 1 }),
        '--dir',
        app.dir,
      ]);
      expect(sent.code, sent.stderr).toBe(0);
    }
    for (const id of ['q-1', 'q-2']) {
      const order = await eventually(
        async () => {
          const answer = await call('staging', `/orders/${id}`);
          return answer.status === 200 ? answer.json() : undefined;
        },
        15_000,
        `order ${id} in staging`,
      );
      expect(order).toMatchObject({ id, item: 'coffee', status: 'stored' });
    }
    expect((await call('dev', '/orders/q-1')).status).toBe(404);
  });

  it('routes to live; smoke only with x-stagecraft-alias: smoke; alias moves take effect within a second', async () => {
    // A config change makes a new release with the same code; deploy it to dev while up runs. Its
    // smoke tests go through up's own gateway: one of them writes down where it was sent.
    const write = `require('node:fs').writeFileSync('smoke-url.txt', process.env.STAGECRAFT_URL)`;
    const where = `  - name: where\n    run: node -e "${write}"\n`;
    app.write(
      'stagecraft.yml',
      app.read('stagecraft.yml').replace('CURRENCY: EUR', 'CURRENCY: USD').replace('smoke:\n', `smoke:\n${where}`),
    );
    const built = await runCli(['build', '--json', '--dir', app.dir]);
    const second = built.json<{ release: string }>().release;
    expect(second).not.toBe(first);
    expect((await runCli(['deploy', 'dev', '--dir', app.dir])).code).toBe(0);
    expect(app.read('smoke-url.txt')).toBe(up.urls['dev']);
    const started = Date.now();
    await eventually(
      async () => ((await call('dev', '/health')).json()['release'] === second ? true : undefined),
      2_000,
      'the new release in dev',
    );
    expect(Date.now() - started).toBeLessThan(1_500);

    // Point dev's smoke alias back at version 1, as another process would, and look both ways.
    const store = StateStore.open(join(app.dir, '.stagecraft', 'state.db'));
    store.transaction(() =>
      store.control.setAlias(
        { instance: 'shop-api-dev', name: 'smoke', version: 1 },
        { operation: 'test', actor: 'test' },
      ),
    );
    store.close();
    await eventually(
      async () =>
        (await call('dev', '/health', { headers: { 'x-stagecraft-alias': 'smoke' } })).json()['release'] === first
          ? true
          : undefined,
      2_000,
      'smoke on the old version',
    );
    expect((await call('dev', '/health')).json()['release']).toBe(second);
  });

  it('logs every invocation with START/END/REPORT lines, readable by `stagecraft logs`', async () => {
    await call('prod', '/health');
    const logs = await eventually(
      async () => {
        const result = await runCli(['logs', 'api', '--env', 'prod', '--json', '--dir', app.dir]);
        const { lines, entries } = result.json<{ lines: string[]; entries: { line: string; version: string }[] }>();
        return lines.some((line) => line.includes('REPORT RequestId')) ? { lines, entries } : undefined;
      },
      5_000,
      'log lines',
    );
    expect(logs.lines.some((line) => line.includes('START RequestId') && line.endsWith('Version: 1'))).toBe(true);
    expect(logs.entries.every(({ version }) => version === '1')).toBe(true);
  });
});
