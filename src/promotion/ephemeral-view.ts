/** How an ephemeral environment borrows from the chain environment it copies. */
import type { AppContext } from './context.js';

/** The environment whose secrets `env` uses: its `from` when it is ephemeral, else itself. */
export function secretsOf(ctx: Pick<AppContext, 'store'>, env: string): string {
  return ctx.store.environments.get(env)?.from ?? env;
}
