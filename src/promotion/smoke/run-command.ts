/**
 * A `run` smoke test: any command, in the app's folder, told where the environment's gateway
 * is and which alias to ask for. Its exit code decides. It runs in its own process group so a
 * timeout kills everything it started, not just the shell; and a watchdog in that group kills
 * it when this process dies — even by SIGKILL, which a promotion must survive (its resume runs
 * the tests again), so no smoke command outlives the promotion that started it.
 */
import { spawn } from 'node:child_process';

export interface CommandRun {
  exitCode: number | null;
  timedOut: boolean;
  output: string;
}

const MAX_OUTPUT = 64 * 1024;

/** `sh -c` script: $1 the parent's pid, $2 the command. `kill -KILL 0` is the whole process group. */
const WITH_WATCHDOG = [
  // Its output goes nowhere: a `sleep` of the watchdog must not hold our pipes open after the command ends.
  '( while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -KILL 0 ) </dev/null >/dev/null 2>&1 &',
  'watchdog=$!',
  'sh -c "$2"',
  'status=$?',
  'kill "$watchdog" 2>/dev/null',
  'exit $status',
].join('\n');

export function runCommand(
  command: string,
  options: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<CommandRun> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', WITH_WATCHDOG, 'stagecraft-smoke', String(process.pid), command], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
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
