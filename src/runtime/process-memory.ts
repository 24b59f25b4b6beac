/**
 * "Max Memory Used" of the REPORT line: the peak resident set size of the runtime process. Linux
 * keeps that high-water mark for us (VmHWM in /proc/<pid>/status), so sampling now and then
 * loses nothing but what happens after the last sample. Like Lambda's figure it only grows over
 * the life of an environment.
 * https://man7.org/linux/man-pages/man5/proc_pid_status.5.html
 */
import { closeSync, openSync, readSync } from 'node:fs';

const VM_HWM = /^VmHWM:\s+(\d+)\s+kB/m;

/**
 * The peak of one process, sampled again and again as a warm environment is: the status file
 * stays open and is re-read from its start, which costs half of opening it each time. `read`
 * gives MB (rounded up), or undefined where /proc is not available or the process is gone.
 */
export class PeakMemory {
  private fd: number | undefined;
  private readonly scratch = Buffer.allocUnsafe(8192);

  constructor(pid: number) {
    try {
      this.fd = openSync(`/proc/${pid}/status`, 'r');
    } catch {
      this.fd = undefined;
    }
  }

  read(): number | undefined {
    if (this.fd === undefined) return undefined;
    try {
      const size = readSync(this.fd, this.scratch, 0, this.scratch.length, 0);
      return fromStatus(this.scratch.toString('latin1', 0, size));
    } catch {
      return undefined;
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

function fromStatus(status: string): number | undefined {
  const kb = VM_HWM.exec(status)?.[1];
  return kb === undefined ? undefined : Math.ceil(Number(kb) / 1024);
}
