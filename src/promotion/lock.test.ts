import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../state/index.js';
import { SqliteLock } from './lock.js';

const holder = (pid: number, operation = 'promote') => ({ pid, host: hostname(), operation });

describe('SqliteLock', () => {
  it('refuses a second holder while the first lives, naming it; free again once released', async () => {
    const store = StateStore.open(':memory:');
    const alive = new Set([101, 202]);
    const first = new SqliteLock(store, (pid) => alive.has(pid));
    const second = new SqliteLock(store, (pid) => alive.has(pid));
    await first.acquire('shop', holder(101), { staleAfterMs: 60_000 });
    await expect(second.acquire('shop', holder(202, 'deploy'), { staleAfterMs: 60_000 })).rejects.toMatchObject({
      code: 'LOCK_HELD',
      kind: 'refused',
      message: expect.stringMatching(/^shop is locked by `promote` \(pid 101 on .+, since \d{4}-/),
    });
    await first.release('shop');
    await expect(second.acquire('shop', holder(202, 'deploy'), { staleAfterMs: 60_000 })).resolves.toEqual({});
  });

  it('takes over a holder whose process is gone, and the old holder can no longer release it', async () => {
    const store = StateStore.open(':memory:');
    const alive = new Set([101, 202]);
    const old = new SqliteLock(store, (pid) => alive.has(pid));
    await old.acquire('shop', holder(101), { staleAfterMs: 60_000 });
    alive.delete(101);
    const next = new SqliteLock(store, (pid) => alive.has(pid));
    const { takenOverFrom } = await next.acquire('shop', holder(202), { staleAfterMs: 60_000 });
    expect(takenOverFrom).toMatchObject({ pid: 101, operation: 'promote' });
    await old.release('shop');
    expect(store.locks.get('shop')?.pid).toBe(202);
    // The old holder learns it lost the lock the next time it says it is alive, and must stop.
    await expect(old.heartbeat('shop')).resolves.toBeUndefined(); // released: nothing left to renew
    const third = new SqliteLock(store, () => false);
    await third.acquire('shop', holder(303), { staleAfterMs: 60_000 }); // 202 is "gone" for this one
    await expect(next.heartbeat('shop')).rejects.toMatchObject({ code: 'LOCK_LOST', kind: 'refused' });
  });

  it('takes over a live process whose heartbeat is stale, and heartbeats keep a holder fresh', async () => {
    let now = Date.parse('2026-11-23T10:00:00Z');
    const store = StateStore.open(':memory:', { now: () => new Date(now) });
    const first = new SqliteLock(store, () => true);
    await first.acquire('shop', holder(101), { staleAfterMs: 30_000 });
    now += 20_000;
    await first.heartbeat('shop');
    now += 20_000; // 40 s since start, 20 s since the heartbeat: still fresh
    const second = new SqliteLock(store, () => true);
    await expect(second.acquire('shop', holder(202), { staleAfterMs: 30_000 })).rejects.toMatchObject({
      code: 'LOCK_HELD',
    });
    now += 15_000; // 35 s of silence
    await expect(second.acquire('shop', holder(202), { staleAfterMs: 30_000 })).resolves.toMatchObject({
      takenOverFrom: { pid: 101 },
    });
  });
});
