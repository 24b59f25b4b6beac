/** With many functions, promote and deploy summarise what is uniform and list only what differs; --json keeps every detail. */
import { afterAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';

const manifest = (count: number, extra = '') =>
  [
    'app: many',
    'runtime: nodejs20.x',
    'environments:',
    '  - name: dev',
    '  - name: staging',
    'functions:',
    ...Array.from({ length: count }, (_, i) => `  f${String(i).padStart(2, '0')}: { handler: src/echo.handler }`),
    extra,
    '',
  ].join('\n');

describe('promotion summary with 50 functions', () => {
  const app = copyApp('basic');
  afterAll(() => app.remove());
  const cli = (...args: string[]) => runCli([...args, '--dir', app.dir], { timeoutMs: 240_000 });

  it('says "50 functions at v1" instead of fifty names, and names only the one that differs', async () => {
    app.write('stagecraft.yml', manifest(50));
    expect((await cli('build')).code).toBe(0);
    const first = await cli('promote');
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.split('\n');
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThan(160);
    expect(lines.find((line) => line.trimStart().startsWith('dev'))).toMatch(/live on 50 functions at v1$/);

    app.write('stagecraft.yml', manifest(50, '  late: { handler: src/echo.handler }'));
    expect((await cli('build')).code).toBe(0);
    const second = await cli('promote');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/dev +live +live on 51 functions at v2, except late v1/);
    const json = await cli('promote', '--json');
    const outcome = json.json<{ environments: { functions: { function: string; version: number | null }[] }[] }>();
    expect(outcome.environments[0]?.functions).toHaveLength(51);
  }, 300_000);
});
