/**
 * The functions of one step run side by side: on AWS each waits on Lambda (and on the process's share
 * of its 15 calls/s, see providers/aws/call-budget.ts), not on this process.
 */
import { forEachLimited } from '../release/index.js';

/** How many functions of one step are in flight at once. */
export const STEP_CONCURRENCY = 10;

/**
 * `work` on every item, at most `limit` at a time, results in the items' order. After a failure no
 * new item starts; those in flight finish (a half-done call is never abandoned), then the first error
 * is thrown for the step's usual rollback.
 */
export async function eachConcurrently<T, R>(
  items: readonly T[],
  work: (item: T) => Promise<R>,
  limit = STEP_CONCURRENCY,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  const errors: unknown[] = [];
  await forEachLimited([...items.keys()], limit, async (index) => {
    if (errors.length > 0) return;
    try {
      results[index] = await work(items[index] as T);
    } catch (error) {
      errors.push(error);
    }
  });
  if (errors.length > 0) throw errors[0];
  return results;
}
