/**
 * Runs an alias-changing operation under the app's lock: refused (exit 3) while another holds
 * it, a dead holder taken over and the takeover recorded, a heartbeat while the work runs, the
 * lock released however the work ends.
 *
 * The work gets `ensureHeld`, which renews the heartbeat and throws `LOCK_LOST` when another
 * process has taken the lock over — say this one was stopped (SIGSTOP, a suspended VM) past the
 * stale time. The engine calls it before every step that changes anything, so a process that
 * lost its lock stops instead of racing the one that took it.
 */
import type { AppContext } from './context.js';
import { currentHolder, HEARTBEAT_MS, STALE_AFTER_MS } from './lock.js';

export type EnsureHeld = () => Promise<void>;

export async function withLock<T>(
  ctx: Pick<AppContext, 'lock' | 'store' | 'loaded' | 'actor' | 'report'>,
  operation: string,
  work: (ensureHeld: EnsureHeld) => Promise<T>,
): Promise<T> {
  const app = ctx.loaded.manifest.app;
  const { takenOverFrom } = await ctx.lock.acquire(app, currentHolder(operation), { staleAfterMs: STALE_AFTER_MS });
  if (takenOverFrom) {
    ctx.report.warn(
      `took over the lock of \`${takenOverFrom.operation}\` (pid ${takenOverFrom.pid} on ${takenOverFrom.host}, since ${takenOverFrom.since}): its process is gone or silent`,
    );
    ctx.store.transaction(() =>
      ctx.store.ledger.append({
        kind: 'lock.taken-over',
        operation,
        actor: ctx.actor,
        detail: { from: takenOverFrom },
      }),
    );
  }
  // The way back from a damaged state database: a verified snapshot before every alias-changing operation.
  await ctx.store.backup(operation);
  let lost: unknown;
  const heartbeat = setInterval(
    () =>
      void ctx.lock.heartbeat(app).catch((error: unknown) => {
        lost ??= error;
      }),
    HEARTBEAT_MS,
  );
  heartbeat.unref();
  const ensureHeld: EnsureHeld = async () => {
    if (lost !== undefined) throw lost;
    await ctx.lock.heartbeat(app);
  };
  try {
    return await work(ensureHeld);
  } finally {
    clearInterval(heartbeat);
    await ctx.lock.release(app);
  }
}
