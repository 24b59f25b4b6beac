import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StagecraftError } from '../errors.js';
import { deterministicZip, type ZipEntry } from './zip.js';
import { adaptiveZipper, inlineZipper, zipPool, type Zipper } from './zip-pool.js';

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

/** Artifacts of varied sizes; one holds a view into a larger buffer, as a bundler may hand over. */
function artifacts(): ZipEntry[][] {
  const shared = new Uint8Array(randomBytes(64 * 1024));
  return [
    [{ path: 'src/api.mjs', data: text('export const handler = () => 1;\n'.repeat(5000)) }],
    [
      { path: 'bootstrap', data: text('#!/bin/sh\n'), mode: 0o755 },
      { path: 'lib/blob', data: shared.subarray(1000, 9000) },
    ],
    [
      { path: '123', data: text('digits first') },
      { path: 'a.txt', data: text('a') },
    ],
    [{ path: 'big.bin', data: new Uint8Array(randomBytes(512 * 1024)) }],
    // Zipped a file per worker and put together: a bundle, its source map, an empty file, an executable.
    [
      { path: 'src/api.mjs', data: text('export const handler = async () => ({ ok: true });\n'.repeat(3000)) },
      { path: 'src/api.mjs.map', data: text('{"version":3,"mappings":"AAAA;AACA"}'.repeat(4000)) },
      { path: '7', data: new Uint8Array(0) },
      { path: 'bin/run', data: text('#!/bin/sh\nexec node src/api.mjs\n'), mode: 0o755 },
    ],
    // Many small files: one job.
    Array.from({ length: 12 }, (_, i) => ({ path: `pkg/m${i}.py`, data: text(`x = ${i}\n`.repeat(i + 1)) })),
  ];
}

describe('zipPool', () => {
  it('gives the bytes of deterministicZip for every artifact, whatever the time zone of the caller', async () => {
    const jobs = artifacts();
    const pool = zipPool(2);
    const before = process.env.TZ;
    process.env.TZ = 'Pacific/Kiritimati';
    try {
      const zips = await Promise.all(jobs.map((entries) => pool.zip(entries)));
      process.env.TZ = 'America/Los_Angeles';
      jobs.forEach((entries, index) => {
        expect(Buffer.from(zips[index] as Uint8Array).equals(Buffer.from(deterministicZip(entries)))).toBe(true);
      });
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
      await pool.close();
    }
  });

  it('refuses a bad path as deterministicZip does, and keeps working', async () => {
    const pool = zipPool(1);
    try {
      const error = await pool.zip([{ path: '../up.txt', data: text('x') }]).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StagecraftError);
      expect((error as StagecraftError).code).toBe('BUILD_FAILED');
      const [entries] = artifacts();
      expect(Buffer.from(await pool.zip(entries ?? [])).equals(Buffer.from(deterministicZip(entries ?? [])))).toBe(
        true,
      );
    } finally {
      await pool.close();
    }
  });

  it('zips inline with the same bytes', async () => {
    const [entries] = artifacts();
    const zipper = inlineZipper();
    expect(Buffer.from(await zipper.zip(entries ?? [])).equals(Buffer.from(deterministicZip(entries ?? [])))).toBe(
      true,
    );
    await zipper.close();
  });
});

describe('adaptiveZipper', () => {
  it('zips here until the bytes pass its budget, then on one pool started for the rest: the same bytes', async () => {
    const jobs = artifacts();
    const started: Zipper[] = [];
    const zipper = adaptiveZipper(() => {
      const pool = zipPool(2);
      started.push(pool);
      return pool;
    }, 100 * 1024);
    try {
      const small = [jobs[1], jobs[2], jobs[5]] as ZipEntry[][];
      const zips: Uint8Array[] = [];
      for (const entries of small) zips.push(await zipper.zip(entries));
      expect(started).toHaveLength(0);
      // 160 KB of text, then 512 KB: past the budget, both on the one pool.
      for (const entries of [jobs[0], jobs[3]] as ZipEntry[][]) zips.push(await zipper.zip(entries));
      expect(started).toHaveLength(1);
      [...small, jobs[0], jobs[3]].forEach((entries, index) => {
        expect(
          Buffer.from(zips[index] as Uint8Array).equals(Buffer.from(deterministicZip(entries ?? []))),
          String(index),
        ).toBe(true);
      });
    } finally {
      await zipper.close();
    }
  });

  it('refuses a bad path inline, starts no pool for nothing, and takes no job once closed', async () => {
    let starts = 0;
    const zipper = adaptiveZipper(() => {
      starts += 1;
      return inlineZipper();
    });
    const error = await zipper.zip([{ path: '../up.txt', data: text('x') }]).catch((caught: unknown) => caught);
    expect((error as StagecraftError).code).toBe('BUILD_FAILED');
    await zipper.close();
    expect(starts).toBe(0);
    await expect(zipper.zip([{ path: 'a.txt', data: text('a') }])).rejects.toThrow(/closed/);
    expect(starts).toBe(0);
  });
});
