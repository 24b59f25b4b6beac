/**
 * `stagecraft dev` through the real CLI: an edit is rebuilt (that function only) and answers the
 * next request; a syntax error keeps the old code serving and is printed with file:line; dev
 * publishes only in the developer's own environment, and a `promote` from another process while
 * dev runs succeeds.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { startDev, type RunningDev } from './helpers/dev.js';
import { until } from './helpers/wait.js';

const ENV = 'dev-alice-login';
const handler = (body: string): string =>
  `export const handler = async () => ({ statusCode: 200, body: ${JSON.stringify(body)} });\n`;

describe('stagecraft dev', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-dev-'));
  const write = (file: string, text: string): void => writeFileSync(join(dir, file), text);
  let dev: RunningDev | undefined;

  beforeAll(async () => {
    mkdirSync(join(dir, 'src'));
    write(
      'stagecraft.yml',
      [
        'app: devloop',
        'runtime: nodejs20.x',
        'environments:',
        '  - name: dev',
        '  - name: staging',
        'ephemeral: { from: dev, ttl: 72h }',
        'functions:',
        '  hello:',
        '    handler: src/hello.handler',
        '    events:',
        '      - http: GET /hello',
        '  other:',
        '    handler: src/other.handler',
        '    events:',
        '      - http: GET /other',
        '',
      ].join('\n'),
    );
    write('src/hello.ts', handler('hello v1'));
    write('src/other.ts', handler('other v1'));
    write('.gitignore', '.stagecraft/\n');
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
    git('init', '-q', '-b', 'login');
    git('add', '-A');
    git('-c', 'user.name=alice', '-c', 'user.email=alice@example.com', 'commit', '-qm', 'init');
    dev = await startDev(dir, [], { STAGECRAFT_ACTOR: 'alice' });
  }, 90_000);

  afterAll(async () => {
    await dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string): Promise<string> => (dev as RunningDev).get(path);

  it("starts in the developer's own ephemeral environment, serving the code", async () => {
    expect(dev?.events[0]).toMatchObject({ event: 'reload', environment: ENV, rebuilt: ['hello', 'other'] });
    expect(await get('/hello')).toBe('hello v1');
    // From the clean tree, dev recorded the very release `build` makes (content-addressed).
    const built = await runCli(['build', '--json', '--dir', dir]);
    expect(built.code, built.stderr).toBe(0);
    expect(built.json<{ release: string; created: boolean }>()).toMatchObject({
      release: dev?.events[0]?.release,
      created: false,
    });
  }, 60_000);

  it('rebuilds only the edited function, and the next response comes from the new code', async () => {
    const running = dev as RunningDev;
    const seen = running.events.length;
    write('src/hello.ts', handler('hello v2'));
    const reload = await running.next(seen, (event) => event.event === 'reload', 'the reload');
    expect(reload.rebuilt).toEqual(['hello']);
    expect(await get('/hello')).toBe('hello v2');
    expect(await get('/other')).toBe('other v1');
    // stderr is another pipe: its line may arrive just after the event.
    await until(
      () => new RegExp(`hello rebuilt \\(\\d+ ms\\) → v2 live in ${ENV} \\(\\d+ ms\\)`).test(running.stderr()),
      10_000,
      'the progress line',
    );
  }, 60_000);

  it('keeps the old code serving on a syntax error, prints file:line, and resumes once fixed', async () => {
    const running = dev as RunningDev;
    let seen = running.events.length;
    write('src/hello.ts', 'export const handler = async () => ({ statusCode: 200, body: "broken" ;\n');
    // A half-written file may fail first with an error of its own; the syntax error follows.
    const error = await running.next(
      seen,
      (event) => event.event === 'error' && /Expected "}"/.test(event.message ?? ''),
      'the build error',
    );
    expect(error.message).toMatch(/src\/hello\.ts:1:\d+: Expected "}"/);
    await until(
      () => /src\/hello\.ts:1:\d+: Expected "}".*the previous code keeps serving/.test(running.stderr()),
      10_000,
      'the error on stderr',
    );
    expect(await get('/hello')).toBe('hello v2');
    seen = running.events.length;
    write('src/hello.ts', handler('hello v3'));
    const reload = await running.next(seen, (event) => event.event === 'reload', 'the reload after the fix');
    expect(reload.rebuilt).toEqual(['hello']);
    expect(await get('/hello')).toBe('hello v3');
  }, 60_000);

  it('keeps the old release serving on an invalid manifest, with file:line, and reloads it once valid', async () => {
    const running = dev as RunningDev;
    const manifest = readFileSync(join(dir, 'stagecraft.yml'), 'utf8');
    let seen = running.events.length;
    write(
      'stagecraft.yml',
      manifest.replace('    handler: src/other.handler\n', '    handler: src/other.handler\n    memroy: 128\n'),
    );
    // The watch may see the file half-written first (an error of its own); the complete one follows.
    const error = await running.next(
      seen,
      (event) => event.event === 'error' && /stagecraft\.yml:14:5/.test(JSON.stringify(event)),
      'the manifest error',
    );
    expect(JSON.stringify(error)).toMatch(/stagecraft\.yml:14:5 functions\.other\.memroy: unknown key/);
    await until(
      () => /stagecraft\.yml:14:5 functions\.other\.memroy/.test(running.stderr()),
      10_000,
      'the error on stderr',
    );
    expect(await get('/hello')).toBe('hello v3');
    seen = running.events.length;
    // Replaced by rename, as editors and git do: the watch must not lose the file.
    write(
      '.stagecraft.yml.swp',
      manifest.replace('    handler: src/other.handler\n', '    handler: src/other.handler\n    memory: 256\n'),
    );
    renameSync(join(dir, '.stagecraft.yml.swp'), join(dir, 'stagecraft.yml'));
    const reload = await running.next(
      seen,
      (event) => event.event === 'reload' && (event.trigger ?? []).includes('stagecraft.yml'),
      'the reload of the manifest',
    );
    expect(reload.rebuilt).toEqual([]);
    expect(Object.keys(reload.versions ?? {}).sort()).toEqual(['hello', 'other']);
    expect(await get('/other')).toBe('other v1');
  }, 60_000);

  it('never publishes outside its environment; a promote from another process succeeds meanwhile', async () => {
    const running = dev as RunningDev;
    // The start was built from the committed tree: that release may go down the chain.
    const clean = running.events[0]?.release ?? '';
    // An edit at the same moment: dev reloads while the promotion runs, and neither disturbs the other.
    const seen = running.events.length;
    write('src/other.ts', handler('other v2'));
    const promoted = await runCli(['promote', '--release', clean, '--json', '--dir', dir]);
    expect(promoted.code, promoted.stderr).toBe(0);
    await running.next(seen, (event) => event.event === 'reload', 'the reload');
    expect(await get('/other')).toBe('other v2');
    // A release dev built from uncommitted changes stays in the developer's environment.
    const dirty = await runCli(['deploy', 'staging', '--json', '--dir', dir]);
    expect(dirty.code, dirty.stdout).toBe(2);
    expect(dirty.stdout).toMatch(/built by `stagecraft dev` from uncommitted changes/);
    const history = (await runCli(['history', '--limit', '1000', '--json', '--dir', dir])).json<{
      entries: { kind: string; operation: string; environment: string | null }[];
    }>();
    const devMoves = history.entries.filter((entry) => entry.operation === 'dev');
    expect(devMoves.filter((entry) => entry.kind === 'alias.moved').length).toBeGreaterThanOrEqual(4);
    expect([...new Set(devMoves.map((entry) => entry.environment))]).toEqual([ENV]);
    const moves = history.entries.filter((entry) => entry.kind === 'alias.moved' || entry.kind === 'version.published');
    for (const entry of moves) if (entry.environment !== ENV) expect(entry.operation).toBe('promote');
    expect(moves.some((entry) => entry.environment === 'staging')).toBe(true);
  }, 90_000);
});
