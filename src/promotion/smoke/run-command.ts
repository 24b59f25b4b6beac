/**
 * A `run` smoke test: any command, in the app's folder, told where the environment's gateway
 * is and which alias to ask for. Its exit code decides. It runs in its own process group so a
 * timeout kills everything it started, not just the shell.
 */
import { spawn } from 'node:child_process';

export interface CommandRun { exitCode: number | null; timedOut: boolean; output: string }

const MAX_OUTPUT = 64 * 1024;

export function runCommand(command: string, options: { cwd: string; env: Record<string, string>; timeoutMs: number }): Promise<CommandRun> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    const collect = (chunk: Buffer): void => {
      if (output.length < MAX_OUTPUT) output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ exitCode: null, timedOut, output: `${output}${error.message}\n` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ exitCode: code, timedOut, output });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
