/**
 * `up` and `dev` boot the runtime processes of their first prewarms as the command line starts,
 * while the rest of its code loads, instead of after it: Node's own start is ~95 ms on this
 * machine, and the CLI's and then the runtime's, one after the other, were most of `up`'s time
 * to its first 200 (bench/RESULTS.md). Each is a spare (src/runtime/spare-runtime.ts): booted in
 * its sandbox without code or variables, which the environment that adopts it hands over.
 *
 * Which ones is a guess from the manifest as it is (read from its cache, which the command then
 * finds ready), in the platform's order (prewarmOrder). The versions live may want another runtime or memory size, and
 * a function setting NODE_OPTIONS or the like takes no spare: such a spare is stopped once the
 * platform has made its prewarms.
 *
 * The runtime modules come from their own files, not the folder's index: this runs before the rest
 * of the CLI loads, and the index would load all of it first.
 */
import { join } from 'node:path';
import { loadManifest } from '../manifest/index.js';
import { DEFAULT_PREWARM, manifestSpec, prewarmOrder } from '../providers/local/prewarm.js';
import { chooseNodeBinary } from '../runtime/node-binary.js';
import { runtimeKind } from '../runtime/runtime-command.js';
import { detectSandboxSoon, sandboxOnPath, type SandboxChoice } from '../runtime/sandbox.js';
import { SpareRuntime } from '../runtime/spare-runtime.js';

export interface EarlySpares {
  appDir: string;
  /** The sandbox's detection, begun with the spares: the host's, so that it runs no second trial. */
  sandbox: Promise<SandboxChoice>;
  spares: SpareRuntime[];
}

let booting: Promise<EarlySpares | undefined> | undefined;

/**
 * Boots the spares for `up` or `dev` run with `args` (its options, as typed). Never fails: without
 * a manifest (or with bad arguments) nothing boots, and the command says what is wrong as it would have.
 */
export function bootEarlySpares(args: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  booting = boot(args, env).catch(() => undefined);
}

/** The spares booted for `appDir`, handed over once; undefined when none were (or for another folder). */
export async function takeEarlySpares(appDir: string): Promise<EarlySpares | undefined> {
  const booted = await booting;
  booting = undefined;
  if (booted === undefined || booted.appDir === appDir) return booted;
  await stop(booted);
  return undefined;
}

/**
 * Stops the spares nobody took: the command failed before its environments could (bad arguments,
 * another app's state in use). Their processes would otherwise keep the command from exiting.
 */
export async function stopEarlySpares(): Promise<void> {
  const booted = await booting;
  booting = undefined;
  if (booted !== undefined) await stop(booted);
}

async function stop(booted: EarlySpares): Promise<void> {
  await Promise.all(booted.spares.map((spare) => spare.stop()));
}

async function boot(args: readonly string[], env: NodeJS.ProcessEnv): Promise<EarlySpares | undefined> {
  const prewarm = Number(option(args, '--prewarm') ?? DEFAULT_PREWARM);
  if (args.includes('--help') || args.includes('-h') || !Number.isInteger(prewarm) || prewarm <= 0) return undefined;
  const { manifest, appDir } = await loadManifest(option(args, '--dir') ?? '.');
  if (manifest.provider !== 'local') return undefined;
  // The trial run of bwrap would hold the spares back by its own start: it runs after them, beside their boot.
  const choice = sandboxOnPath(env);
  const slotRoot = join(appDir, '.stagecraft', 'code');
  const spares: SpareRuntime[] = [];
  for (const [name, def] of prewarmOrder(manifest, prewarm)) {
    const like = manifestSpec(manifest, name, def, slotRoot);
    if (runtimeKind(like.runtime) !== 'node') continue;
    const binary = chooseNodeBinary(like.runtime, env);
    const spare = SpareRuntime.start(like, { slotRoot, binary, choice, hostEnv: env });
    if (spare !== undefined) spares.push(spare);
  }
  const sandbox = detectSandboxSoon(env);
  return { appDir, sandbox, spares };
}

/** The value of `--name value` or `--name=value` among commander-style arguments. */
function option(args: readonly string[], name: string): string | undefined {
  for (const [index, arg] of args.entries()) {
    if (arg === name) return args[index + 1];
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}
