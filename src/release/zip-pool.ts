/**
 * Zipping many artifacts at once on worker threads: deflate (fflate, plain JavaScript, the same
 * bytes on every machine) is the one part of a build that runs on Node's own thread.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { deterministicZip, joinZips, zipPlan, type ZipEntry } from './zip.js';

export interface Zipper {
  /** The deterministic zip of `entries`: the bytes deterministicZip gives. */
  zip(entries: readonly ZipEntry[]): Promise<Uint8Array>;
  /** Stops the workers; jobs not finished are rejected. */
  close(): Promise<void>;
}

/** Zips on the calling thread: for one artifact, a worker would only add its start-up. */
export function inlineZipper(): Zipper {
  return {
    zip: async (entries) => deterministicZip(entries),
    close: async () => {},
  };
}

/**
 * Artifacts are zipped on the calling thread until their bytes add up to more than this, then on
 * a pool: starting two workers and warming their deflate costs more than zipping a little here
 * (bench/RESULTS.md, 2026-12-05: ten Python functions of 0.6 MB in all, 0.56–0.61 s inline against
 * 0.67–0.74 s on two workers; examples/shop 0.44–0.47 s against 0.51–0.55 s).
 */
export const INLINE_BYTES = 4 * 1024 * 1024;

/**
 * Inline for a build with little to zip (a few functions, small ones, or none fresh at all), a
 * pool once there is enough to be worth its start-up; the pool is started at most once. An inline
 * zip waits for the caller's turn to end first, so that the next esbuild call is on its way.
 */
export function adaptiveZipper(startPool: () => Zipper, inlineBytes: number = INLINE_BYTES): Zipper {
  let pool: Zipper | undefined;
  let inlined = 0;
  let closed = false;
  return {
    zip: async (entries) => {
      if (closed) throw new Error('the zipper is closed');
      const size = entries.reduce((sum, entry) => sum + entry.data.length, 0);
      if (pool === undefined && inlined + size <= inlineBytes) {
        inlined += size;
        await new Promise((resolve) => setImmediate(resolve));
        return deterministicZip(entries);
      }
      pool ??= startPool();
      return pool.zip(entries);
    },
    close: async () => {
      closed = true;
      await pool?.close();
    },
  };
}

// Evaluated, not a file: it runs the same under tsc's output, the CLI bundle and vitest.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { zipSync } = require(workerData.fflate);
parentPort.on('message', ({ id, files }) => {
  let zip;
  try {
    zip = zipSync(files);
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
    return;
  }
  parentPort.postMessage({ id, zip }, [zip.buffer]);
});
`;

/**
 * An artifact of at most this many files (a bundle and its source map, their CSS) is zipped a file
 * per worker; one of many small files (Python, a code folder) is one job, so the queue stays short.
 */
const SPLIT_AT_MOST = 4;

interface Job {
  id: number;
  files: ReturnType<typeof zipPlan>;
  size: number;
  resolve(zip: Uint8Array): void;
  reject(error: Error): void;
}

/**
 * `size` workers, started at once (so that they start while esbuild bundles), each zipping one
 * artifact at a time. Jobs queue; the largest waiting goes first, so a few large bundles do not
 * end up last on one worker while the others idle.
 */
export function zipPool(size: number): Zipper {
  const fflate = createRequire(import.meta.url).resolve('fflate');
  const waiting: Job[] = [];
  const busy = new Map<Worker, Job>();
  const idle: Worker[] = [];
  let nextId = 0;
  let closed = false;

  const fail = (worker: Worker, error: Error): void => {
    busy.get(worker)?.reject(error);
    busy.delete(worker);
    const at = idle.indexOf(worker);
    if (at >= 0) idle.splice(at, 1);
    // With no worker left, what waits is zipped here rather than never.
    if (busy.size === 0 && idle.length === 0) {
      for (const job of waiting.splice(0)) runInline(job);
    }
  };
  const pump = (): void => {
    waiting.sort((a, b) => b.size - a.size);
    while (idle.length > 0 && waiting.length > 0) {
      const worker = idle.pop() as Worker;
      const job = waiting.shift() as Job;
      busy.set(worker, job);
      worker.postMessage({ id: job.id, files: job.files });
    }
  };
  const workers = Array.from({ length: Math.max(1, size) }, () => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { fflate } });
    worker.on('message', (message: { id: number; zip?: Uint8Array; error?: string }) => {
      const job = busy.get(worker);
      busy.delete(worker);
      idle.push(worker);
      if (job !== undefined && job.id === message.id) {
        if (message.zip !== undefined) job.resolve(message.zip);
        else job.reject(new Error(`zipping failed: ${message.error ?? 'no reason given'}`));
      }
      pump();
    });
    worker.on('error', (error) => fail(worker, error));
    worker.on('exit', () => {
      if (!closed) fail(worker, new Error('a zip worker stopped'));
    });
    idle.push(worker);
    return worker;
  });

  const enqueue = (files: Job['files'], size: number): Promise<Uint8Array> =>
    new Promise((resolve, reject) => {
      if (closed) return reject(new Error('the zip pool is closed'));
      const job = { id: nextId++, files, size, resolve, reject };
      if (busy.size === 0 && idle.length === 0) return runInline(job);
      waiting.push(job);
      // After the caller's loop has queued every job, so that the largest start first.
      queueMicrotask(pump);
    });

  return {
    async zip(entries) {
      // Checked here (a throw rejects), so a bad path fails as it does in deterministicZip.
      const files = zipPlan(entries.map((entry) => ({ ...entry, data: exact(entry.data) })));
      const names = Object.keys(files);
      const sizes = new Map(entries.map((entry) => [entry.path, entry.data.length]));
      const sizeOf = (name: string): number => sizes.get(name) ?? 0;
      if (names.length < 2 || names.length > SPLIT_AT_MOST || workers.length < 2)
        return enqueue(
          files,
          entries.reduce((sum, entry) => sum + entry.data.length, 0),
        );
      // A file per worker (a bundle beside its source map), then put together: the same bytes.
      const parts = await Promise.all(
        names.map((name) => enqueue({ [name]: files[name] } as Job['files'], sizeOf(name))),
      );
      return joinZips(parts);
    },
    async close() {
      closed = true;
      for (const job of [...waiting.splice(0), ...busy.values()]) job.reject(new Error('the zip pool is closed'));
      busy.clear();
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}

function runInline(job: Job): void {
  try {
    job.resolve(createRequire(import.meta.url)('fflate').zipSync(job.files) as Uint8Array);
  } catch (error) {
    job.reject(error as Error);
  }
}

/**
 * A view's own bytes in a buffer of their own: posting a view copies its whole underlying
 * buffer, which may hold every other output of the build.
 */
function exact(data: Uint8Array): Uint8Array {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
}
