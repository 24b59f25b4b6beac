// The spares `up` and `dev` boot as the command line starts: one per function the platform would
// prewarm, from the manifest as it is; none when told not to prewarm, for help, for an app on AWS
// or for a folder without a manifest; handed over once, and stopped when the app is another one.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../../test/helpers/wait.js';
import { bootEarlySpares, takeEarlySpares } from './early-spares.js';

const root = mkdtempSync(join(tmpdir(), 'stagecraft-early-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const node = `nodejs${process.versions.node.split('.')[0]}.x`;

let apps = 0;
/** An app folder with this manifest and the files it names; returns its path. */
function app(manifest: string): string {
  const dir = join(root, `app${(apps += 1)}`);
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, 'shell'));
  for (const name of ['api', 'worker'])
    writeFileSync(join(dir, 'src', `${name}.mjs`), 'export const handler = () => 1;\n');
  writeFileSync(join(dir, 'shell', 'bootstrap'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(dir, 'stagecraft.yml'), manifest);
  return dir;
}

const shop = (provider = 'local') =>
  [
    'app: shop',
    `provider: ${provider}`,
    `runtime: ${node}`,
    'environments: [{ name: dev }, { name: prod }]',
    'functions:',
    '  api: { handler: src/api.handler, memory: 256, events: [{ http: GET /api }] }',
    '  worker: { handler: src/worker.handler }',
    '  shell: { handler: function.handler, runtime: provided.al2023, code: shell, events: [{ http: GET /shell }] }',
    '',
  ].join('\n');

const slots = (dir: string): string[] => {
  try {
    return readdirSync(join(dir, '.stagecraft', 'code')).filter((name) => name.startsWith('.spare-'));
  } catch {
    return [];
  }
};

describe('bootEarlySpares', () => {
  it("boots a Node runtime for each routed function the platform would prewarm, the chain's first environment first", async () => {
    const dir = app(shop());
    bootEarlySpares(['--dir', dir, '--prewarm', '3']);
    const early = await takeEarlySpares(dir);
    // api in dev, shell in dev (provided: no spare), api in prod; the worker has no route.
    expect(early?.spares.map((spare) => spare.key)).toEqual([`${node}\u0000256\u0000512`, `${node}\u0000256\u0000512`]);
    expect(slots(dir)).toHaveLength(2);
    // Handed over once.
    expect(await takeEarlySpares(dir)).toBeUndefined();
    await Promise.all(early?.spares.map((spare) => spare.stop()) ?? []);
    await until(() => slots(dir).length === 0, 10_000, 'the stopped spares to leave no slot');
  });

  it('stops them when the app that opens is another one', async () => {
    const dir = app(shop());
    bootEarlySpares([`--dir=${dir}`]);
    expect(await takeEarlySpares(join(root, 'elsewhere'))).toBeUndefined();
    await until(() => slots(dir).length === 0, 10_000, 'the spares to be stopped');
  });

  it.each([
    ['--prewarm 0', (dir: string) => ['--dir', dir, '--prewarm', '0'], shop()],
    ['--help', (dir: string) => ['--dir', dir, '--help'], shop()],
    ['a bad --prewarm', (dir: string) => ['--dir', dir, '--prewarm', 'many'], shop()],
    ['provider: aws', (dir: string) => ['--dir', dir], shop('aws')],
    ['no manifest', () => ['--dir', join(root, 'no-app-here')], shop()],
  ])('boots none with %s', async (_case, args, manifest) => {
    const dir = app(manifest);
    bootEarlySpares(args(dir));
    expect(await takeEarlySpares(dir)).toBeUndefined();
    expect(slots(dir)).toEqual([]);
  });
});
