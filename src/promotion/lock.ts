/**
 * One promotion at a time (DESIGN §5, invariant 5). `promote`, `deploy`, `approve` and
 * `rollback` hold the app's lock while they change aliases; a second one is refused (exit 3)
 * with the holder named. A holder that died — its process gone on this host, or its heartbeat
 * older than `staleAfterMs` (another host, or a hung process) — is taken over, and the
 * takeover recorded in the ledger by the caller.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { StagecraftError } from '../errors.js';
import {
  deadHolder,
  lockLost,
  processIsAlive,
  type LockHolder,
  type LockRow,
  type PromotionLock,
  type StateStore,
} from '../state/index.js';

// Where they were first defined: the rule and the check are the state's now, shared with the DynamoDB lock.
export { deadHolder, processIsAlive } from '../state/index.js';

export type { LockHolder, PromotionLock };

/** How often a holder says it is alive, and how long without that counts as dead. */
export const HEARTBEAT_MS = 5_000;
export const STALE_AFTER_MS = 60_000;

export class SqliteLock implements PromotionLock {
  private readonly tokens = new Map<string, string>();

  constructor(
    private readonly store: StateStore,
    private readonly isAlive: (pid: number) => boolean = processIsAlive,
  ) {}

  async acquire(
    app: string,
    holder: { pid: number; host: string; operation: string },
    options: { staleAfterMs: number },
  ): Promise<{ takenOverFrom?: LockHolder }> {
    const { store } = this;
    return store.transaction(() => {
      const now = store.now();
      const current = store.locks.get(app);
      let takenOverFrom: LockHolder | undefined;
      if (current) {
        const held = holderOf(current);
        if (!deadHolder(held, now, { staleAfterMs: options.staleAfterMs, isAlive: this.isAlive })) {
          throw new StagecraftError(
            'LOCK_HELD',
            `${app} is locked by \`${current.operation}\` (pid ${current.pid} on ${current.host}, since ${current.since})`,
            {
              hint: 'wait for it to finish; a lock whose process has died is taken over by the next command',
            },
          );
        }
        takenOverFrom = held;
      }
      const token = randomUUID();
      store.locks.put(
        { name: app, token, ...holder, since: now.toISOString(), heartbeatAt: now.toISOString() },
        current?.token,
      );
      this.tokens.set(app, token);
      return takenOverFrom ? { takenOverFrom } : {};
    });
  }

  async heartbeat(app: string): Promise<void> {
    const token = this.tokens.get(app);
    if (!token) return;
    if (!this.store.locks.heartbeat(app, token, this.store.now().toISOString())) {
      this.tokens.delete(app);
      throw lockLost(app);
    }
  }

  async release(app: string): Promise<void> {
    const token = this.tokens.get(app);
    if (token) this.store.locks.release(app, token);
    this.tokens.delete(app);
  }

  async holder(app: string): Promise<LockHolder | undefined> {
    const current = this.store.locks.get(app);
    return current && holderOf(current);
  }
}

function holderOf(row: LockRow): LockHolder {
  return { pid: row.pid, host: row.host, operation: row.operation, since: row.since, heartbeatAt: row.heartbeatAt };
}

export function currentHolder(operation: string): { pid: number; host: string; operation: string } {
  return { pid: process.pid, host: hostname(), operation };
}
