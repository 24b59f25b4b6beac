/**
 * The source state a release was built from: the git commit, and whether the working tree had
 * changes not in it. Git runs through execFile with fixed arguments, never through a shell.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface GitSource {
  commit: string;
  /** True when files under the app folder differ from the commit (changed, staged or untracked). */
  dirty: boolean;
}

/**
 * The commit checked out at `dir`, or null outside a repository, before the first commit or without
 * git. One git process, off Node's thread: a build starts this before bundling.
 */
export async function gitSource(dir: string): Promise<GitSource | null> {
  try {
    // Porcelain v2 with --branch heads its output with `# branch.oid <commit>`, so one process gives
    // both the commit and the changes. Only this app's folder counts, and not Stagecraft's own
    // output in it, which every build writes.
    const { stdout } = await execFileAsync(
      'git',
      ['status', '--porcelain=v2', '--branch', '--', '.', ':(exclude).stagecraft'],
      {
        cwd: dir,
        encoding: 'utf8',
        // GIT_OPTIONAL_LOCKS=0: `git status` must not take the index lock, which could make a git
        // command the user runs at the same moment fail (https://git-scm.com/docs/git#_environment_variables).
        env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' },
        timeout: 30_000,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const commit = /^# branch\.oid ([0-9a-f]{40}(?:[0-9a-f]{24})?)$/m.exec(stdout)?.[1];
    if (commit === undefined) return null; // `(initial)`: no commit yet
    return { commit, dirty: stdout.split('\n').some((line) => line !== '' && !line.startsWith('# ')) };
  } catch {
    return null;
  }
}

/** `git log --oneline from..to` at `dir`, one commit a line; null when git or either commit is not at hand. */
export function gitLog(dir: string, from: string, to: string): string[] | null {
  try {
    const text = execFileSync('git', ['log', '--oneline', '--no-decorate', `${from}..${to}`], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 30_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return text.split('\n').filter(Boolean);
  } catch {
    return null;
  }
}

/** The branch checked out at `dir` (`main`), or null when detached, outside a repository or without git. */
export function gitBranch(dir: string): string | null {
  try {
    const branch = execFileSync('git', ['rev-parse', '--abbrev-ref', 'HEAD'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 30_000,
    }).trim();
    return branch && branch !== 'HEAD' ? branch : null;
  } catch {
    return null;
  }
}
