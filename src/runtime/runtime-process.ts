/**
 * The runtime as an operating-system process. It gets its own process group, so a timeout or a
 * stop kills everything the runtime started too (a shell bootstrap's curl, a handler's child
 * processes, detached ones and their orphans: process-tree.ts), the way Lambda tears down a whole sandbox. If Stagecraft exits first, the group is
 * killed on the way out; if Stagecraft is killed outright, our Node bootstrap notices the lost
 * parent and the Runtime API, and exits by itself.
 */
import { spawn } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { killSandbox, killTree } from './process-tree.js';

export interface RuntimeProcessEvents {
  stdout(chunk: string): void;
  stderr(chunk: string): void;
  /** The process could not be started at all (no such file, not executable). */
  spawnFailed(error: NodeJS.ErrnoException): void;
  /** The process has exited and its output is fully read. Called exactly once. */
  closed(code: number | null, signal: NodeJS.Signals | null): void;
}

export interface RuntimeProcess {
  /** Undefined once the process is gone (or never started). */
  readonly pid: number | undefined;
  /** SIGKILL to the whole process group and every process the environment started; a no-op once the process is gone. */
  kill(): void;
  readonly closed: Promise<void>;
  /** The Runtime API pipe at descriptor 3, when one was asked for (see runtime-api-pipe.ts). */
  readonly apiPipe: Duplex | undefined;
  /** What marks the environment's processes from now on: a spare's, once an environment adopts it (spare-runtime.ts). */
  setMarker(marker: string): void;
}

export function spawnRuntime(
  command: string,
  args: string[],
  where: {
    cwd: string;
    env: Record<string, string>;
    apiPipe?: boolean;
    marker?: string;
    /**
     * The command is bwrap with a PID namespace of its own and --die-with-parent: whatever the
     * environment started lives in that namespace and dies with its first process, so no search
     * of /proc is needed (process-tree.ts's killSandbox).
     */
    pidNamespace?: boolean;
  },
  events: RuntimeProcessEvents,
): RuntimeProcess {
  // Process groups are a POSIX notion; on Windows we can only kill the process itself.
  const ownGroup = process.platform !== 'win32';
  let marker = where.marker;
  const withPipe = where.apiPipe === true;
  const child = spawn(command, args, {
    cwd: where.cwd,
    env: where.env,
    stdio: withPipe ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
    detached: ownGroup,
  });
  let gone = false;
  let markClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });

  const kill = (): void => {
    if (gone || child.pid === undefined) return;
    if (ownGroup) {
      if (where.pidNamespace === true) killSandbox(child.pid);
      else killTree(child.pid, marker);
      return;
    }
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
    if (gone) return;
    gone = true;
    unwatchHostExit(kill);
    events.closed(code, signal);
    markClosed();
  };

  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => events.stdout(chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => events.stderr(chunk));
  child.on('error', (error: NodeJS.ErrnoException) => {
    if (child.pid !== undefined) return; // a failed signal to a live process: nothing to do
    events.spawnFailed(error);
    finish(null, null);
  });
  // The runtime itself has ended: whatever it left behind in its group goes too, which also
  // releases the output pipes those leftovers may hold, so 'close' can follow.
  child.on('exit', () => kill());
  child.on('close', (code: number | null, signal: NodeJS.Signals | null) => finish(code, signal));
  if (child.pid !== undefined) watchHostExit(kill);

  return {
    get pid() {
      return gone ? undefined : child.pid;
    },
    kill,
    closed,
    apiPipe: withPipe ? ((child.stdio[3] as Duplex | null) ?? undefined) : undefined,
    setMarker: (next) => {
      marker = next;
    },
  };
}

/**
 * One `exit` listener per live runtime; the listener budget grows with them so a warm pool of
 * more than ten environments does not trip Node's leak warning.
 */
function watchHostExit(listener: () => void): void {
  const max = process.getMaxListeners();
  if (max !== 0 && process.listenerCount('exit') >= max - 1) process.setMaxListeners(max + 1);
  process.on('exit', listener);
}

function unwatchHostExit(listener: () => void): void {
  process.off('exit', listener);
}
