/** Under `up`, a backup of the state database at most every `everyMs`, skipped when a command took one since. */
import { listBackups } from './backups.js';
import type { StateStore } from './store.js';

export function scheduleBackups(store: StateStore, everyMs: number, warn: (message: string) => void): { stop(): void } {
  const tick = (): void => {
    const newest = listBackups(store.path)[0];
    if (newest && store.now().getTime() - Date.parse(newest.takenAt) < everyMs) return;
    store
      .backup('up')
      .catch((error: unknown) => warn(`the periodic backup of the state failed: ${(error as Error).message}`));
  };
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
