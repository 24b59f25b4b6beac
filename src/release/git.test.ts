import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitSource } from './git.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-git-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function git(dir: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args],
    {
      cwd: dir,
      encoding: 'utf8',
      // A repository above the temp folder must not be found instead.
      env: { ...process.env, GIT_CEILING_DIRECTORIES: tmpdir() },
    },
  ).trim();
}

describe('gitSource', () => {
  it('is null outside a repository and before the first commit', async () => {
    const dir = tempDir();
    const ceiling = process.env.GIT_CEILING_DIRECTORIES;
    process.env.GIT_CEILING_DIRECTORIES = tmpdir();
    try {
      expect(await gitSource(dir)).toBeNull();
      git(dir, 'init', '--quiet');
      expect(await gitSource(dir)).toBeNull();
    } finally {
      if (ceiling === undefined) delete process.env.GIT_CEILING_DIRECTORIES;
      else process.env.GIT_CEILING_DIRECTORIES = ceiling;
    }
  });

  it('names the commit and whether the app folder has changes not in it', async () => {
    const repo = tempDir();
    const app = join(repo, 'apps/shop');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'api.ts'), 'export const handler = 1;\n');
    writeFileSync(join(repo, 'README.md'), 'root\n');
    git(repo, 'init', '--quiet');
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'first');
    const commit = git(repo, 'rev-parse', 'HEAD');
    expect(await gitSource(app)).toEqual({ commit, dirty: false });
    // Stagecraft's own output and changes outside the app folder do not make the app dirty.
    mkdirSync(join(app, '.stagecraft/artifacts'), { recursive: true });
    writeFileSync(join(app, '.stagecraft/artifacts/x.zip'), 'zip');
    writeFileSync(join(repo, 'README.md'), 'changed\n');
    expect(await gitSource(app)).toEqual({ commit, dirty: false });
    writeFileSync(join(app, 'api.ts'), 'export const handler = 2;\n');
    expect(await gitSource(app)).toEqual({ commit, dirty: true });
    git(repo, 'checkout', '--quiet', '--', '.');
    writeFileSync(join(app, 'new.ts'), 'untracked\n');
    expect((await gitSource(app))?.dirty).toBe(true);
  });
});
