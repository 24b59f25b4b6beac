/**
 * Rollback changes nothing when it is refused (a paused promotion keeps waiting), a repeated
 * rollback goes further back instead of forward, and every summary says where `live` is after.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';

interface StatusJson {
  environments: {
    name: string;
    functions: { function: string; live: { version: number; release: string } | null }[];
  }[];
  promotions: { id: string; status: string }[];
}

function setup() {
  const app = copyApp('promo');
  app.write(
    'stagecraft.yml',
    app
      .read('stagecraft.yml')
      .replace(
        /smoke:[\s\S]*$/,
        'smoke:\n  - name: hello\n    invoke: api\n    event: { rawPath: /hello }\n    expect: { status: 200 }\n',
      ),
  );
  const cli = (...args: string[]) => runCli([...args, '--dir', app.dir]);
  const build = async (mark: string, broken: string[] = []): Promise<string> => {
    app.write(
      'src/api.mjs',
      app
        .read('src/api.mjs')
        .replace(/const MARK = .*;/, `const MARK = ${JSON.stringify(mark)};`)
        .replace(/const BROKEN_IN = .*;/, `const BROKEN_IN = ${JSON.stringify(broken)};`),
    );
    const built = await cli('build', '--json');
    expect(built.code, built.stderr).toBe(0);
    return built.json<{ release: string }>().release;
  };
  const status = async () => (await cli('status', '--json')).json<StatusJson>();
  const live = async (env: string) =>
    (await status()).environments
      .find((candidate) => candidate.name === env)
      ?.functions.map((fn) => fn.live?.version ?? null);
  return { app, cli, build, status, live };
}

describe('rollback safety', () => {
  const apps: { remove(): void }[] = [];
  afterEach(() => {
    for (const app of apps.splice(0)) app.remove();
  });

  it('a refused rollback (nothing live, or a release that lacks a function) leaves a paused promotion waiting', async () => {
    const t = setup();
    apps.push(t.app);
    const manifest = t.app.read('stagecraft.yml');
    t.app.write(
      'stagecraft.yml',
      manifest.replace(
        / {2}worker:\n {4}handler: src\/worker.handler\n {4}events:\n {6}- queue: \{ name: jobs, batchSize: 5 \}\n/,
        '',
      ),
    );
    const r1 = await t.build('one');
    expect((await t.cli('promote')).code).toBe(0);
    const nothingLive = await t.cli('rollback', 'prod');
    expect(nothingLive.code).toBe(2);
    expect(nothingLive.stderr).toMatch(/nothing is live in prod/);
    expect(nothingLive.stderr).not.toMatch(/superseded/);
    expect((await t.status()).promotions).toEqual([expect.objectContaining({ status: 'awaiting-approval' })]);
    expect((await t.cli('approve', 'prod')).code).toBe(0);

    t.app.write('stagecraft.yml', manifest);
    await t.build('two');
    expect((await t.cli('promote')).code).toBe(0); // paused at prod
    const lacking = await t.cli('rollback', 'staging', '--to', r1);
    expect(lacking.code).toBe(2);
    expect(lacking.stderr).toMatch(new RegExp(`${r1} was never published to staging \\(worker\\)`));
    expect(lacking.stderr).not.toMatch(/superseded/);
    const approved = await t.cli('approve', 'prod');
    expect(approved.code, approved.stderr).toBe(0);
  }, 90_000);

  it('a repeated rollback goes further back, then refuses saying why; summaries say where live is', async () => {
    const t = setup();
    apps.push(t.app);
    for (const mark of ['one', 'two', 'three']) {
      await t.build(mark);
      expect((await t.cli('promote', '--to', 'dev')).code).toBe(0);
    }
    expect(await t.live('dev')).toEqual([3, 3]);
    const first = await t.cli('rollback', 'dev');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/dev: live now api v2 \(r2-/);
    expect(await t.live('dev')).toEqual([2, 2]);
    const second = await t.cli('rollback', 'dev');
    expect(second.code, second.stderr).toBe(0);
    expect(await t.live('dev')).toEqual([1, 1]);
    const third = await t.cli('rollback', 'dev');
    expect(third.code).toBe(2);
    expect(third.stderr).toMatch(/cannot go further back: v1 is the first version that was live there/);
    expect(await t.live('dev')).toEqual([1, 1]);

    // A failed promotion's summary names the version live went back to, not the failed one.
    await t.build('four', ['dev']);
    const failed = await t.cli('promote', '--to', 'dev');
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/dev +restored +live back on api v1, worker v1/);
    expect(failed.stdout).not.toMatch(/restored .*v4/);
  }, 120_000);
});
