// What the benchmarks read about this machine: free loopback ports, a process tree and its memory and CPU (Linux /proc).
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const portFree = (port) =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/**
 * The first port the kernel hands to client sockets. Below it no outgoing connection takes a port
 * between the probe and the server's bind (`up` binds P … P+n-1, not one port the kernel chose).
 */
function ephemeralStart() {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

/** A base port P such that P … P+n-1 are free right now, below the ports of client sockets. */
export async function freePorts(n) {
  // Where client ports start low (some systems: 1024), no range is free of them: draw from 20000 up.
  const top = Math.max(ephemeralStart() - n, 20_000);
  for (;;) {
    const base = 10_000 + Math.floor(Math.random() * (top - 10_000));
    if ((await Promise.all(Array.from({ length: n }, (_, i) => portFree(base + i)))).every(Boolean)) return base;
  }
}

/** The fields of /proc/<pid>/stat after the command name (field 3, the state, first); undefined once gone. */
function statFields(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** A process and all its descendants, the process first. */
export function treePids(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    if (fields !== undefined)
      children.set(Number(fields[1]), [...(children.get(Number(fields[1])) ?? []), Number(entry)]);
  }
  const pids = [];
  const visit = (p) => {
    pids.push(p);
    for (const child of children.get(p) ?? []) visit(child);
  };
  visit(pid);
  return pids;
}

/** Processes and RSS (MB) of a process tree. */
export function tree(pid) {
  let kb = 0;
  const pids = treePids(pid);
  for (const p of pids) {
    try {
      const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      kb += rss ? Number(rss[1]) : 0;
    } catch {
      /* gone */
    }
  }
  return { processes: pids.length, rssMb: Math.round(kb / 1024) };
}

/** CPU seconds (user + system) a process tree has used: the live processes' own, and the children they reaped. */
export function treeCpuSeconds(pid) {
  let ticks = 0;
  for (const p of treePids(pid)) {
    const fields = statFields(p);
    // utime, stime, cutime, cstime: fields 14–17 of stat(5), here counted from field 3.
    if (fields !== undefined)
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return ticks / 100; // clock ticks of 10 ms
}
