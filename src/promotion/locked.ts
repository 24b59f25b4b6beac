/**
 * Runs an alias-changing operation under the app's lock: refused (exit 3) while another holds
 * it, a dead holder taken over and the takeover recorded, a heartbeat while the work runs, the
 * lock released however the work ends.
 */
import type { AppContext } from './context.js';
import { currentHolder, HEARTBEAT_MS, STALE_AFTER_MS } from './lock.js';

export async function withLock<T>(ctx: Pick<AppContext, 'lock' | 'store' | 'loaded' | 'actor' | 'report'>, operation: string, work: () => Promise<T>): Promise<T> {
  const app = ctx.loaded.manifest.app;
  const { takenOverFrom } = await ctx.lock.acquire(app, currentHolder(operation), { staleAfterMs: STALE_AFTER_MS });
  if (takenOverFrom) {
    ctx.report.warn(`took over the lock of \`${takenOverFrom.operation}\` (pid ${takenOverFrom.pid} on ${takenOverFrom.host}, since ${takenOverFrom.since}): its process is gone or silent`);
    ctx.store.transaction(() => ctx.store.ledger.append({ kind: 'lock.taken-over', operation, actor: ctx.actor, detail: { from: takenOverFrom } }));
  }
  const heartbeat = setInterval(() => void ctx.lock.heartbeat(app).catch(() => undefined), HEARTBEAT_MS);
  heartbeat.unref();
  try {
    return await work();
  } finally {
    clearInterval(heartbeat);
    await ctx.lock.release(app);
  }
}
