/**
 * "Max Memory Used" of the REPORT line: the peak resident set size of the runtime process. Linux
 * keeps that high-water mark for us (VmHWM in /proc/<pid>/status), so sampling now and then
 * loses nothing but what happens after the last sample. Like Lambda's figure it only grows over
 * the life of an environment.
 * https://man7.org/linux/man-pages/man5/proc_pid_status.5.html
 */
import { readFileSync } from 'node:fs';

/** Peak RSS in MB (rounded up), or undefined where /proc is not available or the process is gone. */
export function peakRssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Math.ceil(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}
