/**
 * `stagecraft dev` reloads, through the real CLI: a handler that fails to build does not hold back
 * the others; a manifest that adds a function and route takes effect without a restart; a Python
 * function reloads by copying its files; the old version's environments drain; new code that fails
 * its init is not put live; `--smoke` keeps `live` where it was when a smoke test fails.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateStore } from '../src/state/index.js';
import { startDev, type RunningDev } from './helpers/dev.js';
import { eventually, until } from './helpers/wait.js';

const node = (body: string): string =>
  `export const handler = async () => ({ statusCode: 200, body: ${JSON.stringify(body)} });\n`;
const python = (body: string): string =>
  `def handler(event, context):\n    return {"statusCode": 200, "body": ${JSON.stringify(body)}}\n`;

const MANIFEST = [
  'app: devreload',
  'runtime: nodejs20.x',
  'environments:',
  '  - name: dev',
  'functions:',
  '  hello:',
  '    handler: src/hello.handler',
  '    events:',
  '      - http: GET /hello',
  '  other:',
  '    handler: src/other.handler',
  '    events:',
  '      - http: GET /other',
  '  py:',
  '    runtime: python3.12',
  '    code: pysrc',
  '    handler: app.handler',
  '    events:',
  '      - http: GET /py',
  'smoke:',
  '  - name: hello-says-ok',
  '    http: GET /hello',
  '    expect: { status: 200, bodyContains: ok }',
  '',
].join('\n');

/** Every regular file under `dir` (none when it is gone). */
function filesOf(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name));
  } catch {
    return [];
  }
}

/**
 * The processes running the code unpacked at `codeDir`: started in it (the sandbox binds it by
 * its path), or in a spare's slot the code was hard-linked into (src/runtime/spare-runtime.ts).
 */
function processesRunning(codeDir: string): number[] {
  const inodes = new Set(filesOf(codeDir).map((file) => statSync(file).ino));
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      const linked = () => basename(cwd).startsWith('.spare-') && filesOf(cwd).some((f) => inodes.has(statSync(f).ino));
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(codeDir) || linked()) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe('stagecraft dev: reloads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-dev-reload-'));
  const write = (file: string, text: string): void => writeFileSync(join(dir, file), text);
  let dev: RunningDev | undefined;

  beforeAll(async () => {
    mkdirSync(join(dir, 'src'));
    mkdirSync(join(dir, 'pysrc'));
    write('stagecraft.yml', MANIFEST);
    write('src/hello.ts', node('hello ok v1'));
    write('src/other.ts', node('other v1'));
    write('pysrc/app.py', python('py v1'));
    dev = await startDev(dir);
  }, 90_000);

  afterAll(async () => {
    await dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string): Promise<string> => (dev as RunningDev).get(path);

  it('reloads the others when one handler fails to build, and keeps the broken one on its old code', async () => {
    const running = dev as RunningDev;
    expect(await get('/hello')).toBe('hello ok v1');
    const seen = running.events.length;
    write('src/hello.ts', 'export const handler = async () => ({ statusCode: 200, body: "broken" ;\n');
    write('src/other.ts', node('other v2'));
    const reload = await running.next(
      seen,
      (event) => event.event === 'reload' && (event.rebuilt ?? []).includes('other'),
      'the reload of other',
    );
    expect(Object.keys(reload.versions ?? {})).toEqual(['other']);
    expect(await get('/other')).toBe('other v2');
    expect(await get('/hello')).toBe('hello ok v1');
    await until(() => /src\/hello\.ts:1:\d+: Expected "}"/.test(running.stderr()), 10_000, 'the build error');
    const fixed = running.events.length;
    write('src/hello.ts', node('hello ok v2'));
    await running.next(fixed, (event) => event.event === 'reload', 'the reload after the fix');
    expect(await get('/hello')).toBe('hello ok v2');
  }, 60_000);

  it('reloads a python function by copying its files, without bundling anything', async () => {
    const running = dev as RunningDev;
    expect(await get('/py')).toBe('py v1');
    const seen = running.events.length;
    write('pysrc/app.py', python('py v2'));
    const reload = await running.next(seen, (event) => event.event === 'reload', 'the reload of py');
    expect(reload.rebuilt).toEqual(['py']);
    expect(await get('/py')).toBe('py v2');
  }, 60_000);

  it('drains the old version: no request is answered by old code after the new answer, and its process exits', async () => {
    const running = dev as RunningDev;
    const store = StateStore.open(join(dir, '.stagecraft', 'state.db'));
    const codeOfLive = (): string => {
      const alias = store.control.listAliases().find((a) => a.instance === 'devreload-other-dev' && a.name === 'live');
      const sha256 = store.control.getVersion('devreload-other-dev', alias?.version ?? -1)?.sha256 ?? 'none';
      return join(dir, '.stagecraft', 'code', sha256);
    };
    try {
      // Warm: the old version's process runs now.
      expect(await get('/other')).toBe('other v2');
      const old = codeOfLive();
      expect(processesRunning(old).length).toBeGreaterThan(0);
      const seen = running.events.length;
      write('src/other.ts', node('other v3'));
      await running.next(seen, (event) => event.event === 'reload', 'the reload');
      await eventually(async () => (await get('/other')) === 'other v3' || undefined, 20_000, 'the new answer');
      for (let i = 0; i < 20; i++) expect(await get('/other')).toBe('other v3');
      await until(() => processesRunning(old).length === 0, 20_000, "the old version's processes to exit");
      expect(processesRunning(codeOfLive()).length).toBeGreaterThan(0);
    } finally {
      store.close();
    }
  }, 60_000);

  it('keeps the old code live when the new code fails its init, with the error and its stack', async () => {
    const running = dev as RunningDev;
    const seen = running.events.length;
    write('src/other.ts', `throw new Error('boom at init');\n${node('other v4')}`);
    const error = await running.next(
      seen,
      (event) => event.event === 'error' && /boom at init/.test(event.message ?? ''),
      'the init error',
    );
    expect(error.message).toMatch(/other: the new code failed to start: Error: boom at init/);
    expect(JSON.stringify(error)).toMatch(/src\/other\.ts:1/);
    expect(await get('/other')).toBe('other v3');
    const fixed = running.events.length;
    write('src/other.ts', node('other v5'));
    await running.next(fixed, (event) => event.event === 'reload', 'the reload after the fix');
    expect(await get('/other')).toBe('other v5');
  }, 60_000);

  it('serves a function and route the manifest adds, without a restart', async () => {
    const running = dev as RunningDev;
    const seen = running.events.length;
    write('src/added.ts', node('added v1'));
    write(
      'stagecraft.yml',
      MANIFEST.replace(
        'smoke:\n',
        '  added:\n    handler: src/added.handler\n    events:\n      - http: GET /added\nsmoke:\n',
      ),
    );
    await running.next(
      seen,
      (event) => event.event === 'reload' && (event.rebuilt ?? []).includes('added'),
      'the reload of the manifest',
    );
    expect(await get('/added')).toBe('added v1');
    expect(await get('/hello')).toBe('hello ok v2');
  }, 60_000);

  it('with --smoke, keeps live where it was when a smoke test fails, and moves it once they pass', async () => {
    await dev?.stop();
    dev = await startDev(dir, ['--smoke']);
    const running = dev;
    expect(await get('/hello')).toBe('hello ok v2');
    let seen = running.events.length;
    write('src/hello.ts', node('hello v3 without the word'));
    const refused = await running.next(seen, (event) => event.event === 'reload', 'the reload');
    expect(refused).toMatchObject({ live: false });
    await until(() => /smoke test hello-says-ok failed/.test(running.stderr()), 10_000, 'the smoke failure');
    expect(await get('/hello')).toBe('hello ok v2');
    seen = running.events.length;
    write('src/hello.ts', node('hello ok v4'));
    const moved = await running.next(seen, (event) => event.event === 'reload', 'the reload');
    expect(moved).toMatchObject({ live: true });
    expect(await get('/hello')).toBe('hello ok v4');
  }, 90_000);
});
