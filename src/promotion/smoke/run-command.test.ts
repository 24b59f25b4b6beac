import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../../test/helpers/cli.js';
import { gone, isRunning } from '../../../test/helpers/processes.js';
import { runCommand } from './run-command.js';

describe('runCommand', () => {
  it('passes the exit code, the output and the environment through', async () => {
    const run = await runCommand('echo "$STAGECRAFT_ENV"; echo oops >&2; exit 3', {
      cwd: tmpdir(),
      env: { STAGECRAFT_ENV: 'staging' },
      timeoutMs: 5_000,
    });
    expect(run).toEqual({ exitCode: 3, timedOut: false, output: 'staging\noops\n' });
  });

  it('kills the whole process group at its timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagecraft-run-'));
    const run = await runCommand(`sleep 30 & echo $! > ${join(dir, 'pid')}; wait`, {
      cwd: dir,
      env: {},
      timeoutMs: 1_500,
    });
    expect(run.timedOut).toBe(true);
    const grandchild = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    expect(await gone(grandchild)).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });

  it('kills the command when the process that started it is killed with SIGKILL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stagecraft-run-'));
    // The built module (the test suite builds before it runs): a plain Node process cannot import TypeScript.
    const runner = `import('${join(ROOT, 'dist', 'promotion', 'smoke', 'run-command.js')}')`;
    // A child Node process starts the command and is then killed; its command must not outlive it.
    const parent = spawn(
      process.execPath,
      [
        '-e',
        `${runner}.then((m) => m.runCommand('sleep 30 & echo $! > ${join(dir, 'pid')}; wait', { cwd: '${dir}', env: {}, timeoutMs: 60000 }))`,
      ],
      { stdio: 'ignore' },
    );
    let grandchild = 0;
    for (let i = 0; i < 100 && !grandchild; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      try {
        grandchild = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      } catch {
        /* not yet */
      }
    }
    expect(grandchild).toBeGreaterThan(0);
    parent.kill('SIGKILL');
    let alive = true;
    for (let i = 0; i < 60 && alive; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      alive = isRunning(grandchild);
    }
    expect(alive).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  }, 15_000);
});
