import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandHarness } from '../../../test/helpers/in-process-command.js';
import { StateStore } from '../../state/index.js';
import { parseAttributes, registerSend } from './send.js';

const MANIFEST = `
app: shop
environments: [{ name: dev }, { name: prod }]
functions:
  worker:
    handler: src/worker.handler
    events: [{ queue: orders }]
resources:
  queues: { orders: {} }
`;

describe('stagecraft send', () => {
  const cli = commandHarness('send', registerSend, MANIFEST, ['src/worker.js']);
  const send = (...args: string[]) => cli.run(...args);

  const stored = () => {
    const store = StateStore.open(join(cli.dir, '.stagecraft', 'state.db'));
    try {
      return store.queues.list('shop-orders-dev');
    } finally {
      store.close();
    }
  };

  it('writes the message to the environment queue durably and prints its id', async () => {
    expect(
      await send(
        'orders',
        '--env',
        'dev',
        '--data',
        'hello',
        '--attribute',
        'source=cli',
        '--attribute',
        'priority:Number=2',
      ),
    ).toBe(0);
    const [message] = stored();
    expect(cli.stdout.trim()).toBe(message?.messageId);
    expect(message).toMatchObject({
      body: 'hello',
      receiveCount: 0,
      attributes: {
        source: { DataType: 'String', StringValue: 'cli' },
        priority: { DataType: 'Number', StringValue: '2' },
      },
    });
  });

  it('reads the body from a file and answers with one JSON document', async () => {
    writeFileSync(join(cli.dir, 'order.json'), '{"id":"o-1"}\n');
    expect(await send('orders', '--env', 'dev', '--data', '@order.json', '--json', '--delay', '5')).toBe(0);
    const result = JSON.parse(cli.stdout) as Record<string, unknown>;
    const [message] = stored();
    expect(result).toEqual({
      ok: true,
      messageId: message?.messageId,
      queue: 'orders',
      physicalQueue: 'shop-orders-dev',
      environment: 'dev',
    });
    expect(message?.body).toBe('{"id":"o-1"}\n');
    expect((message?.visibleAt ?? 0) - (message?.sentAt ?? 0)).toBe(5_000);
  });

  it('refuses an unknown queue or environment and bad arguments with exit 2, writing nothing', async () => {
    expect(await send('payments', '--env', 'dev', '--data', 'x')).toBe(2);
    expect(cli.stderr).toMatch(/no queue "payments" in shop[\s\S]*hint: queues: orders/);
    expect(await send('orders', '--env', 'qa', '--data', 'x')).toBe(2);
    expect(cli.stderr).toMatch(/no environment "qa"[\s\S]*hint: environments: dev, prod/);
    for (const args of [
      ['--attribute', 'novalue'],
      ['--attribute', 'a=1', '--attribute', 'a=2'],
      ['--attribute', 'n:Number=x'],
      ['--delay', '901'],
      ['--data', '@missing.txt'],
    ]) {
      const data = args.includes('--data') ? [] : ['--data', 'x'];
      expect(await send('orders', '--env', 'dev', ...data, ...args), args.join(' ')).toBe(2);
    }
    expect(await send('orders', '--env', 'dev', '--data', '')).toBe(2);
    expect(stored()).toEqual([]);
  });

  it('parses NAME=VALUE attributes with optional types', () => {
    expect(parseAttributes(['a=1=2', 'b:Binary=aGk=', 'c:String.json={}'])).toEqual({
      a: { DataType: 'String', StringValue: '1=2' },
      b: { DataType: 'Binary', BinaryValue: 'aGk=' },
      c: { DataType: 'String.json', StringValue: '{}' },
    });
  });
});
