/**
 * Starts `stagecraft up` as a real process on a block of free loopback ports, waits until it
 * has printed its URLs, and stops it by its own PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { CLI } from './cli.js';

export interface RunningUp {
  process: ChildProcess;
  pid: number;
  dashboard: string;
  /** The dashboard's login link (it carries the token). */
  login: string;
  urls: Record<string, string>;
  stderr(): string;
  /** SIGTERM (or the given signal) and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * The first port the kernel hands to client sockets (32768 by default). Blocks are drawn below it:
 * above, any outgoing connection of a parallel test may take a port between the probe and `up`'s
 * bind, which binds P … P+n-1 itself rather than a port the kernel chose.
 */
function ephemeralStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

/** A base port P such that P … P+count-1 are all free right now, below the client sockets' range. */
export async function freePortBlock(count: number): Promise<number> {
  // Where client ports start low (some systems: 1024), no range is free of them: draw from 20000 up.
  const top = Math.max(ephemeralStart() - count, 20_000);
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 10_000 + Math.floor(Math.random() * (top - 10_000));
    const checks = await Promise.all(Array.from({ length: count }, (_, i) => portFree(base + i)));
    if (checks.every(Boolean)) return base;
  }
  throw new Error('no free block of ports');
}

/** `args`: more options of `up` (`--prewarm 0`, `--idle-timeout 1s`). */
export async function startUp(
  dir: string,
  options: { ports?: number; env?: Record<string, string>; args?: string[] } = {},
): Promise<RunningUp> {
  // The block is probed free, then bound by `up`: another test file running at the same time may
  // bind one of its ports in between. Only that failure is retried, on a fresh block.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startUpOnce(dir, options);
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt === 3) throw error;
    }
  }
}

class PortTaken extends Error {}

async function startUpOnce(
  dir: string,
  options: { ports?: number; env?: Record<string, string>; args?: string[] },
): Promise<RunningUp> {
  const port = await freePortBlock(options.ports ?? 6);
  const args = ['up', '--json', '--port', String(port), '--dir', dir, ...(options.args ?? [])];
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, NO_COLOR: '1', STAGECRAFT_ACTOR: 'test-runner', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<{ dashboard: string; login: string; environments: { name: string; url: string }[] }>(
    (resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`up did not start in 30 s:\n${stderr}`)), 30_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        try {
          const parsed = JSON.parse(stdout) as {
            ok: boolean;
            dashboard: string;
            login: string;
            environments: { name: string; url: string }[];
          };
          clearTimeout(timer);
          if (parsed.ok === false)
            reject(
              /already in use/.test(stdout) ? new PortTaken(stdout) : new Error(`up failed:\n${stdout}\n${stderr}`),
            );
          else resolve(parsed);
        } catch {
          // not the whole document yet
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`up exited with ${code} before it was ready:\n${stderr}`));
      });
    },
  );
  return {
    process: child,
    pid: child.pid ?? -1,
    dashboard: ready.dashboard,
    login: ready.login,
    urls: Object.fromEntries(ready.environments.map((env) => [env.name, env.url])),
    stderr: () => stderr,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid ?? -1, signal);
      return exited;
    },
  };
}
