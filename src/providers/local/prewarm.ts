/**
 * What `up` and `dev` start before any request asks: the environments of the first routed
 * functions (LocalPlatform's prewarm), and the runtime processes booted for them ahead (spares).
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { FunctionDef, Manifest } from '../../manifest/index.js';
import type { HostedFunction } from '../../runtime/index.js';

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

/**
 * A function as the manifest describes it, without a version, code or variables: what a spare is
 * booted like (runtime, memory, /tmp size), its slot under `codeRoot`. Which versions it can run
 * is decided when one adopts it (spareKey), from the version itself.
 */
export function manifestSpec(manifest: Manifest, name: string, def: FunctionDef, codeRoot: string): HostedFunction {
  return {
    functionName: name,
    version: '$LATEST',
    invokedArn: '',
    codeDir: join(codeRoot, name),
    handler: def.handler,
    runtime: def.runtime ?? manifest.runtime,
    memoryMb: def.memory,
    timeoutSec: def.timeout,
    environment: {},
    region: manifest.region,
    ephemeralStorageMb: def.ephemeralStorage,
    concurrency: def.concurrency,
  };
}
