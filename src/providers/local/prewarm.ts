/** Which environments `up` starts before their first request (LocalPlatform's prewarm). */
import { availableParallelism } from 'node:os';
import type { FunctionDef, Manifest } from '../../manifest/index.js';

/**
 * Prewarmed environments by default: as many as the machine starts at once (its cores), at most
 * four — an app of one or two functions is warm when `up` opens, and a large app does not start
 * (and keep) a runtime process per function and environment before anyone asks.
 */
export const DEFAULT_PREWARM = Math.min(4, availableParallelism());

/**
 * The first `count` functions the platform would prewarm if the versions live had `manifest`'s
 * routes: each environment's routed functions, the chain's first environment first. The platform
 * itself reads the routes of the releases live; this is for guessing before it can (early spares).
 */
export function prewarmOrder(manifest: Manifest, count: number): [string, FunctionDef][] {
  const routed = Object.entries(manifest.functions).filter(([, def]) =>
    def.events.some((event) => event.type === 'http'),
  );
  return manifest.environments.flatMap(() => routed).slice(0, count);
}
