/**
 * Moving one alias, idempotently: a step that runs again after a crash finds the alias where
 * it wanted it and changes (and records) nothing. `null` removes the alias — how a rollback
 * undoes an environment's first deploy.
 */
import type { ChangeMeta } from '../state/index.js';
import type { AppContext } from './context.js';

export async function pointAlias(
  ctx: Pick<AppContext, 'provider'>,
  instance: string,
  alias: string,
  version: number | null,
  change: ChangeMeta,
): Promise<boolean> {
  const current = await ctx.provider.getAlias(instance, alias);
  if (version === null) {
    if (!current) return false;
    await ctx.provider.deleteAlias(instance, alias, change);
    return true;
  }
  if (current && current.version === version && current.extra === undefined) return false;
  await ctx.provider.updateAlias({ instance, name: alias, version, expectedRevision: current?.revision }, change);
  return true;
}
