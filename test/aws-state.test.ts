/**
 * Shared state in DynamoDB (moto_server): the promotion lock refuses a second holder in another
 * process and lets exactly one of several racing processes in, a dead or silent holder is taken
 * over, a holder that was taken over can no longer renew or release; and the ledger and releases
 * of two machines meet in one shared ledger.
 */
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { spawn, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStagecraftError } from '../src/errors.js';
import { AwsClients } from '../src/providers/aws/index.js';
import { DynamoDbLock, StateTable } from '../src/state/shared/index.js';
import { copyApp, ROOT, runCli } from './helpers/cli.js';
import { startMoto, useEnv, type Moto } from './helpers/moto.js';

interface Held {
  acquired: boolean;
  pid?: number;
  code?: string;
  message?: string;
}

const HOLDER = join(ROOT, 'test', 'fixtures', 'aws', 'hold-lock.mjs');

describe('shared state in DynamoDB', () => {
  let moto: Moto;
  let restoreEnv: () => void;
  let clients: AwsClients;
  let table: StateTable;
  const children: ChildProcess[] = [];

  /** Starts a process that takes the lock; resolves with what it reported. */
  const holder = (app: string, args: string[] = []) =>
    new Promise<{ child: ChildProcess; held: Held }>((resolve, reject) => {
      const child = spawn(process.execPath, [HOLDER, 'team-state', app, ...args], {
        env: { ...process.env, ...moto.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let out = '';
      let err = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        err += chunk.toString();
      });
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve({ child, held: JSON.parse(out.split('\n')[0] ?? '{}') as Held });
      });
      child.once('exit', (code) => {
        if (!out.includes('\n')) reject(new Error(`lock holder exited ${code}: ${err}`));
      });
    });
  const kill = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  const refusal = async (work: Promise<unknown>) => {
    const error = await work.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isStagecraftError(error) && error.code).toBe('LOCK_HELD');
    return (error as Error).message;
  };

  beforeAll(async () => {
    moto = await startMoto();
    restoreEnv = useEnv(moto.env);
    clients = new AwsClients({});
    table = new StateTable(clients.dynamodb, 'team-state', { pollMs: 50 });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(children.map(kill));
    clients?.destroy();
    restoreEnv?.();
    await moto?.stop();
  });

  it('refuses the lock while another process holds it, naming the holder, and takes it over once that process is dead', async () => {
    const { child, held } = await holder('shop', ['', 'yes']);
    expect(held).toMatchObject({ acquired: true, pid: child.pid });
    const lock = new DynamoDbLock(table);
    const message = await refusal(
      lock.acquire('shop', { pid: process.pid, host: hostname(), operation: 'deploy' }, { staleAfterMs: 60_000 }),
    );
    expect(message).toContain(`pid ${child.pid} on ${hostname()}`);
    expect(message).toContain('`promote`');
    await kill(child);
    const taken = await lock.acquire(
      'shop',
      { pid: process.pid, host: hostname(), operation: 'deploy' },
      { staleAfterMs: 60_000 },
    );
    expect(taken.takenOverFrom).toMatchObject({ pid: child.pid, host: hostname(), operation: 'promote' });
    expect(await lock.holder('shop')).toMatchObject({ pid: process.pid, operation: 'deploy' });
    await lock.release('shop');
    expect(await lock.holder('shop')).toBeUndefined();
  });

  it('lets exactly one of several racing processes take a free lock', async () => {
    const racers = await Promise.all([1, 2, 3, 4].map(() => holder('race')));
    const winners = racers.filter((racer) => racer.held.acquired);
    expect(winners).toHaveLength(1);
    expect(racers.filter((racer) => !racer.held.acquired).map((racer) => racer.held.code)).toEqual([
      'LOCK_HELD',
      'LOCK_HELD',
      'LOCK_HELD',
    ]);
    const lock = new DynamoDbLock(table);
    expect(await lock.holder('race')).toMatchObject({ pid: winners[0]?.child.pid });
  });

  it('takes over a holder on another host only once its heartbeat is stale', async () => {
    const { child } = await holder('remote', ['runner-b', 'no']);
    let now = Date.now();
    const lock = new DynamoDbLock(table, { now: () => new Date(now) });
    // Its process is alive elsewhere as far as this host can tell: only the heartbeat decides.
    expect(
      await refusal(
        lock.acquire('remote', { pid: process.pid, host: hostname(), operation: 'promote' }, { staleAfterMs: 60_000 }),
      ),
    ).toContain('on runner-b');
    now += 61_000;
    const taken = await lock.acquire(
      'remote',
      { pid: process.pid, host: hostname(), operation: 'promote' },
      { staleAfterMs: 60_000 },
    );
    expect(taken.takenOverFrom).toMatchObject({ pid: child.pid, host: 'runner-b' });
    await kill(child);
  });

  it("a holder that was taken over learns it (LOCK_LOST) and can neither renew nor release the new holder's lock", async () => {
    let now = Date.now();
    const first = new DynamoDbLock(table, { now: () => new Date(now) });
    const second = new DynamoDbLock(table, { now: () => new Date(now), isAlive: () => true });
    await first.acquire('silent', { pid: 1, host: 'runner-a', operation: 'promote' }, { staleAfterMs: 1_000 });
    now += 5_000;
    await second.acquire('silent', { pid: 2, host: 'runner-c', operation: 'promote' }, { staleAfterMs: 1_000 });
    await expect(first.heartbeat('silent')).rejects.toMatchObject({ code: 'LOCK_LOST' });
    await first.release('silent');
    expect(await second.holder('silent')).toMatchObject({ pid: 2, host: 'runner-c' });
    await second.release('silent');
  });

  it('copies the ledger and releases of every machine to the table; history shows them in one order', async () => {
    const machineA = copyApp('basic');
    const machineB = copyApp('basic');
    try {
      for (const machine of [machineA, machineB]) {
        machine.write(
          'stagecraft.yml',
          `${machine.read('stagecraft.yml')}\nstate: { backend: dynamodb, table: team-state }\n`,
        );
      }
      const run = async (machine: typeof machineA, ...args: string[]) => {
        const result = await runCli([...args, '--json', '--dir', machine.dir], { env: moto.env });
        expect(result.code, result.stderr).toBe(0);
        return result;
      };
      const built = (await run(machineA, 'build')).json<{ release: string }>();
      await run(machineA, 'deploy', 'dev');
      await run(machineB, 'build');
      await run(machineB, 'deploy', 'staging');
      const shared = (await run(machineA, 'history')).json<{
        entries: { seq: number; kind: string; environment: string | null; releaseId: string | null }[];
      }>().entries;
      expect(shared.map((entry) => entry.seq)).toEqual(shared.map((_entry, index) => index + 1));
      const moved = shared.filter((entry) => entry.kind === 'alias.moved').map((entry) => entry.environment);
      expect(new Set(moved)).toEqual(new Set(['dev', 'staging']));
      expect(shared.filter((entry) => entry.kind === 'release.built')).toHaveLength(2);
      const fromB = (await run(machineB, 'history')).json<{ entries: unknown[] }>().entries;
      expect(fromB).toEqual(shared);
      const items = await clients.dynamodb.send(
        new QueryCommand({
          TableName: 'team-state',
          KeyConditionExpression: 'pk = :app AND begins_with(sk, :release)',
          ExpressionAttributeValues: { ':app': { S: 'basic' }, ':release': { S: 'release#' } },
        }),
      );
      // Both machines built the same inputs: one release, whatever each called it locally.
      expect(items.Items?.map((item) => item['id']?.S)).toEqual([built.release]);
    } finally {
      machineA.remove();
      machineB.remove();
    }
  });
});
