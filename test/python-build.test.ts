/**
 * Python builds are deterministic: a function with a dependency (a wheel this test builds itself
 * from test/fixtures/python-wheel, installed with --no-index --find-links: no package index is
 * reachable here) gives the same sha256 from a cold cache as from a warm one, a dependency change
 * gives a new artifact for that function only, and nothing of this machine reaches the zip.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plantedCredentials } from './fixtures/credentials.js';
import { runCli } from './helpers/cli.js';
import { buildWheel } from './helpers/python-wheel.js';

interface BuildJson {
  release: string;
  functions: { function: string; sha256: string; cached: boolean }[];
}

const MANIFEST = `app: pybuild
runtime: python3.12
environments:
  - name: dev
functions:
  report:
    code: report
    handler: app.handler
    package: { exclude: ["notes/**"] }
  plain:
    code: plain
    handler: main.handler
`;

describe('build: python functions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-pybuild-'));
  const write = (file: string, text: string) => {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), text);
  };
  const build = async () => {
    const result = await runCli(['build', '--json', '--dir', dir], { timeoutMs: 180_000 });
    expect(result.code, result.stderr).toBe(0);
    return result.json<BuildJson>();
  };
  const shaOf = (result: BuildJson, fn: string) => result.functions.find((entry) => entry.function === fn);
  const entriesOf = (sha: string) => unzipSync(readFileSync(join(dir, '.stagecraft', 'artifacts', `${sha}.zip`)));
  let first: BuildJson;

  beforeAll(() => {
    buildWheel('1.0.0', join(dir, 'wheels'));
    buildWheel('1.1.0', join(dir, 'wheels'));
    write('stagecraft.yml', MANIFEST);
    write(
      'report/app.py',
      'import tinydep\n\n\ndef handler(event, context):\n    return {"shout": tinydep.shout("hi"), "version": tinydep.VERSION}\n',
    );
    write('report/requirements.txt', '--no-index\n--find-links ../wheels\ntinydep==1.0.0\n');
    write('report/notes/todo.txt', 'not shipped\n');
    write('report/tests/test_app.py', 'def test_it():\n    pass\n');
    write('report/__pycache__/app.cpython-311.pyc', 'stale bytecode');
    write('report/.venv/pyvenv.cfg', 'home = /usr/bin\n');
    write('report/.venv/lib/site.py', '# a virtualenv\n');
    write('plain/main.py', 'def handler(event, context):\n    return "plain"\n');
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('packs the source (without tests, caches, virtualenvs, excluded globs) and the installed dependency, nothing of this machine', async () => {
    first = await build();
    const files = entriesOf(shaOf(first, 'report')?.sha256 ?? '');
    const names = Object.keys(files);
    expect(names).toContain('app.py');
    expect(names).toContain('requirements.txt');
    expect(names).toContain('tinydep/__init__.py');
    expect(
      names.filter((name) => /\.pyc$|__pycache__|^tests\/|^\.venv\/|^notes\/|^bin\/|direct_url\.json$/.test(name)),
    ).toEqual([]);
    expect([...names].sort()).toEqual(names);
    const record = names.find((name) => name.endsWith('.dist-info/RECORD'));
    expect(record).toBeDefined();
    const recordText = Buffer.from(files[record ?? ''] ?? []).toString();
    expect(recordText).toContain('tinydep/__init__.py,sha256=');
    expect(recordText).not.toContain(dir);
    expect(recordText).not.toMatch(/^\.\.\/|^\//m);
    for (const [name, data] of Object.entries(files))
      expect(Buffer.from(data).toString('latin1'), name).not.toContain(dir);
  }, 180_000);

  it('two builds, the second from an empty cache, give the same sha256; an unchanged build reuses everything', async () => {
    const again = await build();
    expect(again.functions.every((fn) => fn.cached)).toBe(true);
    rmSync(join(dir, '.stagecraft', 'cache'), { recursive: true, force: true });
    const cold = await build();
    expect(cold.functions.every((fn) => !fn.cached)).toBe(true);
    expect(shaOf(cold, 'report')?.sha256).toBe(shaOf(first, 'report')?.sha256);
    expect(shaOf(cold, 'plain')?.sha256).toBe(shaOf(first, 'plain')?.sha256);
  }, 180_000);

  it('a dependency change gives a new artifact for that function only', async () => {
    write('report/requirements.txt', '--no-index\n--find-links ../wheels\ntinydep==1.1.0\n');
    const changed = await build();
    expect(shaOf(changed, 'report')?.sha256).not.toBe(shaOf(first, 'report')?.sha256);
    expect(shaOf(changed, 'report')?.cached).toBe(false);
    expect(shaOf(changed, 'plain')).toMatchObject({ sha256: shaOf(first, 'plain')?.sha256, cached: true });
    const initPy = Buffer.from(
      entriesOf(shaOf(changed, 'report')?.sha256 ?? '')['tinydep/__init__.py'] ?? [],
    ).toString();
    expect(initPy).toContain('VERSION = "1.1.0"');
  }, 180_000);

  it('the vendored dependency is importable when the function runs', async () => {
    expect((await runCli(['deploy', 'dev', '--dir', dir], { timeoutMs: 120_000 })).code).toBe(0);
    const result = await runCli(['invoke', 'report', '--env', 'dev', '--dir', dir, '--json']);
    expect(result.json<{ result: unknown }>()).toMatchObject({ ok: true });
    expect(result.stdout).toContain('HI!');
    expect(result.stdout).toContain('1.1.0');
  }, 120_000);

  it('the credential gate scans Python sources: a planted key stops the build, nothing written', async () => {
    const planted = plantedCredentials().find((credential) => credential.rule === 'github');
    const line = (planted?.code ?? '').replace(/^export const (\w+) = (.*);$/, '$1 = $2');
    write('plain/keys.py', `${line}\n`);
    const result = await runCli(['build', '--json', '--dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/plain\/keys\.py:1:\d+ github/);
    rmSync(join(dir, 'plain', 'keys.py'));
  }, 120_000);

  it('a bad handler fails validation with the file and the functions it defines', async () => {
    write('stagecraft.yml', MANIFEST.replace('handler: main.handler', 'handler: main.handle'));
    const result = await runCli(['validate', '--dir', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'stagecraft.yml:12:14 functions.plain.handler: plain/main.py:1 has no top-level handle; it defines handler (plain/main.py:1)',
    );
    write('stagecraft.yml', MANIFEST.replace('handler: main.handler', 'handler: nope.handler'));
    expect((await runCli(['validate', '--dir', dir])).stderr).toContain(
      'no module nope: neither plain/nope.py nor plain/nope/__init__.py exists',
    );
    write('stagecraft.yml', MANIFEST);
  });
});
