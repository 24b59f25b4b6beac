/**
 * Starts `stagecraft dev --json` as a real process on free loopback ports and collects its
 * events (one JSON line each on stdout); stopped by its own PID.
 */
import { spawn } from 'node:child_process';
import { CLI } from './cli.js';
import { freePortBlock } from './up.js';
import { eventually } from './wait.js';

export interface DevEvent {
  event: string;
  trigger?: string[];
  rebuilt?: string[];
  message?: string;
  environment?: string;
  url?: string;
  release?: string;
  versions?: Record<string, number>;
}

export interface RunningDev {
  url: string;
  events: DevEvent[];
  stderr(): string;
  /** The body of GET `path` from dev's gateway. */
  get(path: string): Promise<string>;
  /** The first event after the `seen`-th one that matches. */
  next(seen: number, match: (event: DevEvent) => boolean, what: string): Promise<DevEvent>;
  stop(): Promise<number | null>;
}

export async function startDev(
  dir: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<RunningDev> {
  const port = await freePortBlock(8);
  const child = spawn(process.execPath, [CLI, 'dev', '--json', '--port', String(port), '--dir', dir, ...args], {
    env: { ...process.env, NO_COLOR: '1', STAGECRAFT_ACTOR: 'test-runner', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: DevEvent[] = [];
  let buffered = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim()) events.push(JSON.parse(line) as DevEvent);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const next = (seen: number, match: (event: DevEvent) => boolean, what: string): Promise<DevEvent> =>
    eventually(
      () => {
        if (child.exitCode !== null) throw new Error(`dev exited with ${child.exitCode}:\n${stderr}`);
        return events.slice(seen).find(match);
      },
      60_000,
      what,
    );
  const ready = await next(0, (event) => event.event === 'ready', `dev to be ready:\n${stderr}`);
  return {
    url: ready.url ?? '',
    events,
    next,
    stderr: () => stderr,
    get: async (path) => (await fetch(`${ready.url ?? ''}${path}`)).text(),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid ?? -1, 'SIGTERM');
      return exited;
    },
  };
}
