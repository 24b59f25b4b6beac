// Spare runtimes (`dev`'s warm-ups): a process booted ahead takes a new version's code and
// variables and nothing of the function it was booted for; the next spare follows the first
// answer; a function whose variables Node reads as it starts gets its own process; drain leaves
// no spare and no slot. Spares booted before the host (`up`'s and `dev`'s start): a prewarm adopts
// one of its kind, `dev` keeps one no prewarm took, the others are stopped, and one booted in
// another sandbox is never used. With bwrap and with Node's permission model.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { until } from '../../test/helpers/wait.js';
import {
  chooseNodeBinary,
  detectSandbox,
  RuntimeHost,
  type HostedFunction,
  type InvokeOutcome,
  type SandboxChoice,
} from './index.js';
import { SpareRuntime } from './spare-runtime.js';

const root = mkdtempSync(join(tmpdir(), 'stagecraft-spare-'));
const codeRoot = join(root, 'code');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A version's unpacked code: a handler that reports what its process sees. */
function code(name: string): string {
  const dir = join(codeRoot, name);
  mkdirSync(join(dir, 'lib'), { recursive: true });
  writeFileSync(join(dir, 'lib', 'name.mjs'), `export const name = ${JSON.stringify(name)};\n`);
  writeFileSync(
    join(dir, 'index.mjs'),
    [
      "import { readFileSync } from 'node:fs';",
      "import { name } from './lib/name.mjs';",
      'export const handler = async () => ({',
      '  name,',
      '  env: { ...process.env },',
      '  cwd: process.cwd(),',
      // Node's permission model refuses /proc: what bwrap shows is checked there.
      "  environ: (() => { try { return readFileSync('/proc/self/environ', 'latin1'); } catch { return ''; } })(),",
      '});',
      '',
    ].join('\n'),
  );
  return dir;
}

function fn(version: string, environment: Record<string, string> = {}, memoryMb = 128): HostedFunction {
  return {
    functionName: 'shop-api-dev',
    version,
    invokedArn: 'arn:aws:lambda:us-east-1:000000000000:function:shop-api-dev:live',
    codeDir: code(`v${version}`),
    handler: 'index.handler',
    runtime: `nodejs${process.versions.node.split('.')[0]}.x`,
    memoryMb,
    timeoutSec: 5,
    environment,
    region: 'us-east-1',
    concurrency: 10,
  };
}

const slots = (): string[] => readdirSync(codeRoot).filter((name) => name.startsWith('.spare-'));

interface Seen {
  name: string;
  env: Record<string, string>;
  cwd: string;
  environ: string;
}
function seen(outcome: InvokeOutcome): Seen {
  if (!outcome.ok) throw new Error(`expected success, got ${JSON.stringify(outcome.error)}`);
  return JSON.parse(outcome.payload) as Seen;
}

const warm = (host: RuntimeHost): number => host.stats().find((stats) => stats.instance === 'shop-api-dev')?.warm ?? 0;

const hosts: RuntimeHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((created) => created.drain()));
});

// .ci/run installs bubblewrap: on a machine without it, the bwrap half is the one that must fail.
const choices: Array<[string, SandboxChoice]> = [
  ['bwrap', detectSandbox()],
  ['node-permission', { bwrap: undefined, off: false }],
];

describe.each(choices)('spare runtimes under %s', (_kind, sandbox) => {
  function host(spares: SpareRuntime[] = []): RuntimeHost {
    const created = new RuntimeHost({ sandbox, spares });
    hosts.push(created);
    return created;
  }

  /** A spare booted before any host, as `up` boots them while the command line loads (src/cli/early-spares.ts). */
  function early(like: HostedFunction, choice: SandboxChoice = sandbox): SpareRuntime {
    const spare = SpareRuntime.start(like, {
      slotRoot: codeRoot,
      binary: chooseNodeBinary(like.runtime),
      choice,
      hostEnv: process.env,
    });
    if (spare === undefined) throw new Error('expected a spare');
    return spare;
  }

  it('starts a new version in the spare: its code, its variables, nothing of the function it was booted for', async () => {
    const runtime = host();
    runtime.keepSpare(fn('1', { BOOTED_FOR: 'a-secret-of-v1' }));
    await until(() => slots().length === 1, 10_000, 'the spare to boot');
    const [slot] = slots();
    const v2 = fn('2', { MINE: 'v2-value' });
    expect(await runtime.warmUp(v2)).toEqual({ ready: true });
    const first = await runtime.invoke(v2, '{}');
    const inside = seen(first);
    // The process that was booted ahead, around its slot, now runs v2's code with v2's variables.
    expect(inside.env['LAMBDA_TASK_ROOT']).toBe(join(codeRoot, slot as string));
    expect(inside.cwd).toBe(join(codeRoot, slot as string));
    expect(inside.name).toBe('v2');
    expect(inside.env['MINE']).toBe('v2-value');
    expect(inside.env['AWS_LAMBDA_FUNCTION_VERSION']).toBe('2');
    expect(inside.env['AWS_LAMBDA_FUNCTION_NAME']).toBe('shop-api-dev');
    expect(Object.keys(inside.env).filter((name) => name.startsWith('STAGECRAFT_'))).toEqual([]);
    expect(inside.env['BOOTED_FOR']).toBeUndefined();
    expect(inside.environ).not.toContain('a-secret-of-v1');
    // Its init is v2's: counted from the adoption, reported on the first invocation.
    expect(first.initDurationMs).toBeGreaterThan(0);
  });

  it('boots the next spare once the adopted environment has answered, and the next version takes it', async () => {
    const runtime = host();
    runtime.keepSpare(fn('1'));
    await until(() => slots().length === 1, 10_000, 'the spare to boot');
    const [taken] = slots();
    const v2 = fn('2');
    await runtime.warmUp(v2);
    await runtime.invoke(v2, '{}');
    await until(() => slots().length === 2, 10_000, 'the next spare to boot');
    const [next] = slots().filter((name) => name !== taken);
    const v3 = fn('3');
    await runtime.warmUp(v3);
    expect(seen(await runtime.invoke(v3, '{}')).cwd).toBe(join(codeRoot, next as string));
  });

  it('starts a function that sets NODE_OPTIONS in a process of its own, and keeps the spare', async () => {
    const runtime = host();
    runtime.keepSpare(fn('1'));
    await until(() => slots().length === 1, 10_000, 'the spare to boot');
    const own = fn('2', { NODE_OPTIONS: '--no-deprecation' });
    await runtime.warmUp(own);
    const inside = seen(await runtime.invoke(own, '{}'));
    expect(inside.env['LAMBDA_TASK_ROOT']).toBe(own.codeDir);
    expect(inside.env['NODE_OPTIONS']).toBe('--no-deprecation');
    expect(slots()).toHaveLength(1);
  });

  it('drain stops the spares and removes their slots', async () => {
    const runtime = host();
    runtime.keepSpare(fn('1'));
    await until(() => slots().length === 1, 10_000, 'the spare to boot');
    await runtime.drain();
    expect(slots()).toEqual([]);
  });

  it('a prewarm adopts a spare booted before the host; the spares no prewarm took are stopped', async () => {
    const mine = early(fn('0'));
    const other = early(fn('0', {}, 256));
    const runtime = host([mine, other]);
    const v1 = fn('1', { MINE: 'v1-value' });
    runtime.prewarm(v1);
    runtime.stopEarlySpares();
    await until(() => slots().length === 1, 10_000, 'the spare of another memory size to be stopped');
    await until(() => warm(runtime) === 1, 10_000, 'the prewarmed environment to be ready');
    const inside = seen(await runtime.invoke(v1, '{}'));
    expect(inside.cwd).toBe(mine.slot);
    expect(inside.name).toBe('v1');
    expect(inside.env['MINE']).toBe('v1-value');
    expect(runtime.stats().find((stats) => stats.instance === 'shop-api-dev')?.coldStarts).toBe(1);
    await runtime.drain();
    expect(slots()).toEqual([]);
  });

  it('keeps an early spare no prewarm took as the spare for new versions, booting none other', async () => {
    const leftover = early(fn('0'));
    const runtime = host([leftover]);
    runtime.keepSpare(fn('1'));
    runtime.stopEarlySpares();
    const v2 = fn('2', { MINE: 'v2-value' });
    expect(await runtime.warmUp(v2)).toEqual({ ready: true });
    expect(slots().map((slot) => join(codeRoot, slot))).toEqual([leftover.slot]);
    const inside = seen(await runtime.invoke(v2, '{}'));
    expect(inside.cwd).toBe(leftover.slot);
    expect(inside.env['MINE']).toBe('v2-value');
  });

  it('keeps no early spare booted in another sandbox: a spare of its own boots', async () => {
    const elsewhere: SandboxChoice = sandbox.bwrap === undefined ? detectSandbox() : { bwrap: undefined, off: false };
    const leftover = early(fn('0'), elsewhere);
    const runtime = host([leftover]);
    runtime.keepSpare(fn('1'));
    runtime.stopEarlySpares();
    await until(
      () => slots().length === 1 && join(codeRoot, slots()[0] as string) !== leftover.slot,
      10_000,
      'the early spare stopped and a kept one booted',
    );
    const v2 = fn('2');
    await runtime.warmUp(v2);
    expect(seen(await runtime.invoke(v2, '{}')).cwd).not.toBe(leftover.slot);
  });

  it('never adopts a spare booted in another sandbox than the host finds', async () => {
    const elsewhere: SandboxChoice = sandbox.bwrap === undefined ? detectSandbox() : { bwrap: undefined, off: false };
    const runtime = host([early(fn('0'), elsewhere)]);
    const v1 = fn('1');
    runtime.prewarm(v1);
    await until(() => warm(runtime) === 1, 10_000, 'the prewarmed environment to be ready');
    const inside = seen(await runtime.invoke(v1, '{}'));
    expect(inside.cwd).toBe(v1.codeDir);
    await until(() => slots().length === 0, 10_000, 'the unused spare to be stopped');
  });
});
