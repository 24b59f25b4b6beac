/**
 * Everything an execution environment started, found so that tearing it down leaves nothing:
 * the runtime's descendants (a `detached` child has its own process group, so the group kill
 * misses it) and, once they are orphaned, any process still carrying the environment's own
 * `AWS_LAMBDA_LOG_STREAM_NAME` (unique per environment, inherited by whatever it starts).
 * Linux only (/proc); elsewhere the process group is all there is.
 * https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Rounds of find-and-kill: a process forking while it is being killed is caught by the next. */
const ROUNDS = 3;

/**
 * SIGKILL to bwrap (`rootPid`, its group) and to its children. The namespace's first process runs
 * in a session of its own (`--new-session`) and dies with bwrap only once `--die-with-parent` took
 * hold: killed in bwrap's first moments, it would outlive bwrap and hold the environment's pipes
 * open. Killing it ends everything in the namespace. Its children are read before the kill, while
 * bwrap still lists them (a few small reads, no scan of /proc).
 */
export function killSandbox(rootPid: number): void {
  const children = childrenFromTasks(rootPid) ?? [];
  signal(-rootPid);
  for (const pid of children) signal(pid);
}

/**
 * SIGKILL to the group of `rootPid` and to every process of the environment `marker` names. This
 * reads all of /proc, tens of milliseconds on a busy machine: for environments without a PID namespace.
 */
export function killTree(rootPid: number, marker: string | undefined): void {
  signal(-rootPid);
  for (let round = 0; round < ROUNDS; round += 1) {
    const found = environmentProcesses(rootPid, marker);
    if (found.length === 0) return;
    for (const pid of found) signal(pid);
  }
}

/** The live descendants of `rootPid` and the processes whose environment holds `marker`. */
export function environmentProcesses(rootPid: number, marker: string | undefined): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  const marked: number[] = [];
  const needle = marker === undefined ? undefined : `${marker}\0`;
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const parent = parentOf(pid);
    if (parent === undefined) continue; // gone, or a zombie: nothing left to kill
    const siblings = children.get(parent);
    if (siblings === undefined) children.set(parent, [pid]);
    else siblings.push(pid);
    if (needle !== undefined && environOf(pid).includes(needle)) marked.push(pid);
  }
  const found = new Set(marked);
  const queue = [rootPid];
  while (queue.length > 0) {
    for (const child of children.get(queue.pop()!) ?? []) {
      if (found.has(child)) continue;
      found.add(child);
      queue.push(child);
    }
  }
  found.delete(rootPid);
  return [...found];
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // `pid (comm) state ppid …`; comm may hold spaces and parentheses: read after the last `)`.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : Number(fields[1]);
  } catch {
    return undefined;
  }
}

function environOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return '';
  }
}

function signal(target: number): void {
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/**
 * The first process under `rootPid` that is not `wrapper` (e.g. the runtime bwrap started): the
 * one whose memory counts. Undefined while it does not exist yet. It is looked for when an
 * environment's runtime first asks for work, on the way to its first invocation: through each
 * process's own list of children (`/proc/<pid>/task/<tid>/children`, a few small reads) rather
 * than a scan of all of /proc, which on a busy machine took tens of milliseconds.
 */
export function firstUnwrapped(rootPid: number, wrapper: string): number | undefined {
  const children = childrenFromTasks(rootPid) === undefined ? allChildren() : childrenFromTasks;
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (pid !== rootPid && commOf(pid) !== wrapper) return pid;
    queue.push(...(children(pid) ?? []));
  }
  return undefined;
}

/** The children of `pid` as its threads list them; undefined where the kernel keeps no such list. */
function childrenFromTasks(pid: number): number[] | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  const found: number[] = [];
  for (const task of tasks) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${task}/children`, 'latin1');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && task === String(pid)) return undefined;
      continue; // a thread that just ended
    }
    for (const child of text.trim().split(' ')) if (child !== '') found.push(Number(child));
  }
  return found;
}

function allChildren(): (pid: number) => number[] | undefined {
  const all = childrenMap();
  return (pid) => all.get(pid);
}

function childrenMap(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return children;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const parent = parentOf(pid);
    if (parent === undefined) continue;
    const siblings = children.get(parent);
    if (siblings === undefined) children.set(parent, [pid]);
    else siblings.push(pid);
  }
  return children;
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'latin1').trim();
  } catch {
    return '';
  }
}
