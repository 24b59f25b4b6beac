// How many environments the warm pool starts at once, every function together (maxStarting):
// a burst over many functions queues its cold starts, invocations before prewarms, and every
// invocation is answered. Init phases are held open by a file (held-init.mjs), not by the clock.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { until } from '../../test/helpers/wait.js';
import { RuntimeHost, type HostedFunction, type RuntimeHostOptions } from './index.js';

const NODE_CODE = fileURLToPath(new URL('../../test/fixtures/runtime/node', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'stagecraft-host-starts-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Function `name`, whose init phase lasts until `release(name)`. */
function held(name: string): HostedFunction {
  return {
    functionName: `shop-${name}-dev`,
    version: '1',
    invokedArn: `arn:aws:lambda:us-east-1:000000000000:function:shop-${name}-dev:live`,
    codeDir: NODE_CODE,
    handler: 'held-init.handler',
    runtime: `nodejs${process.versions.node.split('.')[0]}.x`,
    memoryMb: 128,
    timeoutSec: 5,
    environment: { HOLD_INIT: join(scratch, name) },
    region: 'us-east-1',
    concurrency: 10,
  };
}
const release = (name: string): void => writeFileSync(join(scratch, name), '');

const hosts: RuntimeHost[] = [];
function host(options: RuntimeHostOptions): RuntimeHost {
  const created = new RuntimeHost({ sandbox: { bwrap: undefined, off: true }, ...options });
  hosts.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((created) => created.drain()));
});

const environmentsOf = (runtime: RuntimeHost, name: string): number | undefined =>
  runtime.stats().find((entry) => entry.instance === `shop-${name}-dev`)?.environments;

describe('runtime host: starts at once', () => {
  it('starts at most maxStarting environments at once; the other invocations wait their turn and all succeed', async () => {
    const runtime = host({ maxStarting: 2 });
    const names = ['a1', 'a2', 'a3', 'a4', 'a5'];
    const outcomes = Promise.all(names.map((name) => runtime.invoke(held(name), '{}')));
    expect(runtime.starts()).toEqual({ starting: 2, waiting: 3 });
    expect(names.map((name) => environmentsOf(runtime, name))).toEqual([1, 1, 0, 0, 0]);
    // Each init that ends hands its slot to the function that has waited longest.
    release('a1');
    await until(() => environmentsOf(runtime, 'a3') === 1, 10_000, 'a3 to start once a1 is ready');
    expect(environmentsOf(runtime, 'a4')).toBe(0);
    expect(runtime.starts()).toEqual({ starting: 2, waiting: 2 });
    for (const name of names.slice(1)) release(name);
    expect((await outcomes).every((outcome) => outcome.ok)).toBe(true);
    expect(runtime.starts()).toEqual({ starting: 0, waiting: 0 });
    expect(runtime.stats().map((entry) => entry.coldStarts)).toEqual([1, 1, 1, 1, 1]);
  });

  it('gives a free slot to a waiting invocation before a prewarm', async () => {
    const runtime = host({ maxStarting: 1 });
    runtime.prewarm(held('b1'));
    runtime.prewarm(held('b2')); // no slot: waits
    const invoked = runtime.invoke(held('b3'), '{}');
    expect(runtime.starts()).toEqual({ starting: 1, waiting: 2 });
    release('b1');
    await until(() => environmentsOf(runtime, 'b3') === 1, 10_000, 'the invocation’s environment to start');
    // b3 holds the only slot until its init ends: the prewarm of b2 has not begun.
    expect(environmentsOf(runtime, 'b2')).toBeUndefined();
    expect(runtime.starts()).toEqual({ starting: 1, waiting: 1 });
    release('b3');
    expect((await invoked).ok).toBe(true);
    await until(() => environmentsOf(runtime, 'b2') === 1, 10_000, 'the prewarm of b2 to begin');
    release('b2');
    await until(() => runtime.starts().starting === 0, 10_000, 'b2 to be ready');
    expect(runtime.stats().map((entry) => [entry.instance, entry.environments, entry.warm])).toEqual([
      ['shop-b1-dev', 1, 1],
      ['shop-b3-dev', 1, 1],
      ['shop-b2-dev', 1, 1],
    ]);
  });

  it('does not start an environment for an invocation that a warm one served while it waited for a slot', async () => {
    const runtime = host({ maxStarting: 1, scaleOutAtOnce: 2, scaleOutAfterMs: 0 });
    release('c1');
    expect((await runtime.invoke(held('c1'), '{}')).ok).toBe(true); // c1 now has one idle environment
    const blocker = runtime.invoke(held('c2'), '{}'); // takes the only slot, held
    // Two at once on c1: one takes the idle environment, the other would start a second, but waits for the slot.
    const both = Promise.all([runtime.invoke(held('c1'), '{}'), runtime.invoke(held('c1'), '{}')]);
    expect((await both).every((outcome) => outcome.ok)).toBe(true);
    expect(runtime.starts()).toEqual({ starting: 1, waiting: 1 });
    release('c2');
    expect((await blocker).ok).toBe(true);
    await until(() => runtime.starts().waiting === 0, 10_000, 'the slot to be handed on');
    expect(runtime.stats().find((entry) => entry.instance === 'shop-c1-dev')).toMatchObject({
      environments: 1,
      coldStarts: 1,
      invocations: 3,
    });
  });
});
