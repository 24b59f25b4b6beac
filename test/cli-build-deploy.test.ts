/**
 * Build once, deploy the same bytes everywhere: the real CLI on a fixture app, a real SQLite
 * file, real artifacts on disk.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';

interface BuildJson {
  release: string;
  created: boolean;
  functions: { function: string; sha256: string; cached: boolean }[];
}
interface StatusJson {
  environments: {
    name: string;
    functions: {
      function: string;
      live: { version: number; release: string; sha256: string } | null;
      smoke: { version: number } | null;
    }[];
  }[];
}
interface LedgerJson {
  entries: {
    kind: string;
    operation: string;
    alias: string | null;
    environment: string | null;
    function: string | null;
    version: number | null;
    releaseId: string | null;
    actor: string;
    commit: string | null;
    at: string;
  }[];
}

const shas = (build: BuildJson) => Object.fromEntries(build.functions.map((fn) => [fn.function, fn.sha256]));

describe('build and deploy', () => {
  const app = copyApp('basic');
  afterAll(() => app.remove());
  const cli = async (...args: string[]) => {
    const result = await runCli([...args, '--json', '--dir', app.dir]);
    expect(result.code, result.stderr).toBe(0);
    return result;
  };

  let first: BuildJson;

  it('builds every function into content-addressed artifacts, and the same inputs give the same release', async () => {
    first = (await cli('build')).json<BuildJson>();
    expect(first.release).toMatch(/^r1-[0-9a-f]{8}$/);
    expect(first.created).toBe(true);
    expect(first.functions.map((fn) => fn.function)).toEqual([
      'boom',
      'echo',
      'hang',
      'hello',
      'legacy',
      'quit',
      'slow',
      'spin',
    ]);
    for (const fn of first.functions) {
      const zip = readFileSync(join(app.dir, '.stagecraft', 'artifacts', `${fn.sha256}.zip`));
      expect(createHash('sha256').update(zip).digest('hex')).toBe(fn.sha256);
    }
    const second = (await cli('build')).json<BuildJson>();
    expect(second.release).toBe(first.release);
    expect(second.created).toBe(false);
    expect(shas(second)).toEqual(shas(first));
    expect(second.functions.every((fn) => fn.cached)).toBe(true);
  });

  it('a change to one function changes only its artifact and makes a new release', async () => {
    app.write('src/echo.mjs', app.read('src/echo.mjs').replace("'echoing'", "'echo:'"));
    const changed = (await cli('build')).json<BuildJson>();
    expect(changed.release).toMatch(/^r2-/);
    const before = shas(first);
    const after = shas(changed);
    expect(Object.keys(after).filter((fn) => after[fn] !== before[fn])).toEqual(['echo']);
    expect(changed.functions.filter((fn) => !fn.cached).map((fn) => fn.function)).toEqual(['echo']);
  });

  it('deploys the newest release to dev and staging: one sha256 per function in both', async () => {
    const dev = await cli('deploy', 'dev');
    expect(dev.stderr).toMatch(/deploy r2-\S+ through dev/);
    await cli('deploy', 'staging');
    const status = (await cli('status')).json<StatusJson>();
    const [devStatus, staging, prod] = status.environments;
    expect(prod?.functions.every((fn) => fn.live === null)).toBe(true);
    for (const fn of devStatus?.functions ?? []) {
      const other = staging?.functions.find((candidate) => candidate.function === fn.function);
      expect(fn.live?.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(other?.live?.sha256).toBe(fn.live?.sha256);
      expect(fn.live).toMatchObject({ version: 1, release: expect.stringMatching(/^r2-/) });
      expect(fn.smoke?.version).toBe(1);
    }
  });

  it('deploying the same release again publishes nothing new; an older release gets a new version', async () => {
    type Deployed = {
      release: string;
      status: string;
      environments: { functions: { function: string; version: number; published: boolean; previousLive: number }[] }[];
    };
    const again = (await cli('deploy', 'dev')).json<Deployed>();
    expect(again.status).toBe('succeeded');
    expect(again.environments[0]?.functions.every((fn) => fn.version === 1 && !fn.published)).toBe(true);
    const back = (await cli('deploy', 'dev', '--release', first.release)).json<Deployed>();
    expect(back.release).toBe(first.release);
    expect(back.environments[0]?.functions.find((fn) => fn.function === 'echo')).toMatchObject({
      version: 2,
      published: true,
      previousLive: 1,
    });
  });

  it('history --json lists every deploy: release, environment, function, version, actor, commit, time', async () => {
    const { entries } = (await cli('history')).json<LedgerJson>();
    const deploys = entries.filter((entry) => entry.kind === 'alias.moved' && entry.alias === 'live');
    // dev r2, staging r2, dev r1 move all eight; deploying r2 to dev again found live in place and moved (and recorded) nothing.
    expect(deploys).toHaveLength(8 * 3);
    for (const entry of deploys) {
      expect(entry).toMatchObject({ operation: 'deploy', actor: 'test-runner', commit: null });
      expect(entry.environment).toMatch(/^(dev|staging)$/);
      expect(entry.function).toBeTruthy();
      expect(entry.version).toBeGreaterThan(0);
      expect(entry.releaseId).toMatch(/^r[12]-/);
      expect(Date.parse(entry.at)).not.toBeNaN();
    }
    expect(entries.filter((entry) => entry.kind === 'release.built').map((entry) => entry.releaseId)).toEqual([
      first.release,
      expect.stringMatching(/^r2-/),
    ]);
    const limited = (await cli('history', '--env', 'staging', '--limit', '3')).json<LedgerJson>();
    expect(limited.entries).toHaveLength(3);
    expect(limited.entries.every((entry) => entry.environment === 'staging')).toBe(true);
  });

  it('status and history print text for people without --json', async () => {
    const status = await runCli(['status', '--dir', app.dir]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^basic \(multi-stack, local\); newest release: r2-/);
    expect(status.stdout).toMatch(/staging\n {2}hello +live v1 r2-/);
    const history = await runCli(['history', '--limit', '1', '--dir', app.dir]);
    expect(history.stdout.trim().split('\n')).toHaveLength(1);
  });
});

describe('git commit in the release', () => {
  it('records the commit and whether the tree was dirty', async () => {
    const app = copyApp('basic');
    const { execFileSync } = await import('node:child_process');
    const git = (...args: string[]) => execFileSync('git', args, { cwd: app.dir, stdio: 'pipe' });
    git('init', '-q');
    git('-c', 'user.email=t@example.com', '-c', 'user.name=T', 'add', '.');
    git('-c', 'user.email=t@example.com', '-c', 'user.name=T', 'commit', '-qm', 'init');
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: app.dir, encoding: 'utf8' }).trim();
    const clean = await runCli(['build', '--json', '--dir', app.dir]);
    expect(clean.json()).toMatchObject({ commit: head, dirty: false });
    app.write('src/echo.mjs', `${app.read('src/echo.mjs')}\n// uncommitted\n`);
    const dirty = await runCli(['build', '--json', '--dir', app.dir]);
    expect(dirty.json()).toMatchObject({ commit: head, dirty: true });
    app.remove();
  });
});

describe('init', () => {
  it('scaffolds an app that validates, builds, deploys and answers as it stands, and never overwrites one', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const parent = mkdtempSync(join(tmpdir(), 'stagecraft-init-'));
    const dir = join(parent, 'My App');
    const init = await runCli(['init', dir, '--json']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.json()).toMatchObject({ app: 'my-app', files: ['stagecraft.yml', 'src/hello.ts', '.gitignore'] });
    for (const args of [['validate'], ['build'], ['deploy', 'dev']]) {
      const result = await runCli([...args, '--dir', dir]);
      expect(result.code, `${args[0]}: ${result.stderr}`).toBe(0);
    }
    const invoked = await runCli(['invoke', 'hello', '--env', 'dev', '--json', '--dir', dir]);
    expect(invoked.json()).toMatchObject({
      payload: { statusCode: 200, body: expect.stringContaining('hello from dev') },
    });
    const again = await runCli(['init', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    rmSync(parent, { recursive: true, force: true });
  });

  it('--runtime python3.12 scaffolds a Python app that builds, deploys and answers; an unknown runtime is refused', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'stagecraft-init-py-'));
    const init = await runCli(['init', dir, '--runtime', 'python3.12', '--json']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.json()).toMatchObject({
      files: ['stagecraft.yml', 'src/hello.py', 'src/requirements.txt', '.gitignore'],
    });
    for (const args of [['validate'], ['build'], ['deploy', 'dev']]) {
      const result = await runCli([...args, '--dir', dir]);
      expect(result.code, `${args[0]}: ${result.stderr}`).toBe(0);
    }
    const invoked = await runCli(['invoke', 'hello', '--env', 'dev', '--json', '--dir', dir]);
    expect(invoked.json()).toMatchObject({
      payload: { statusCode: 200, body: expect.stringContaining('hello from dev') },
    });
    const refused = await runCli(['init', join(dir, 'other'), '--runtime', 'ruby2.7']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('init cannot scaffold runtime "ruby2.7"');
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
