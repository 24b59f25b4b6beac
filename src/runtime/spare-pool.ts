/**
 * The spare runtime processes a host holds (spare-runtime.ts):
 * - kept: for `dev`, one booted ahead per kind of environment asked for (`keep`); a new version's
 *   warm-up takes it, and the host has the next one booted after that version's first answer;
 * - early: booted before the host, as `up` and `dev` start (src/cli/early-spares.ts); a prewarm
 *   takes the one of its kind, `keep` the one it would boot otherwise, and `stopEarly` stops the
 *   rest once the prewarms are made.
 * A spare is only ever taken by a function with its spareKey.
 */
import { dirname } from 'node:path';
import { sandboxKind, type SandboxChoice } from './sandbox.js';
import { SpareRuntime, spareKey } from './spare-runtime.js';
import type { FunctionSpec, NodeBinary } from './types.js';

export interface SparePoolOptions {
  /** The host's sandbox (its detection may still be under way): kept spares boot in it. */
  sandbox: SandboxChoice | Promise<SandboxChoice>;
  binaryFor(runtime: string): NodeBinary;
  hostEnv: NodeJS.ProcessEnv;
  /** Spares booted before the host; whether one can run in the sandbox is the adopting environment's check. */
  early: readonly SpareRuntime[];
  /** False where spares cannot serve (the Runtime API over HTTP rather than the pipe): none is kept or taken. */
  usable: boolean;
  /** Each spare being stopped, for the host's drain to wait for. */
  stopping(stopped: Promise<void>): void;
}

export class SparePool {
  /** Per spareKey asked for (`keep`): a function to boot its spares like, and the spare booted. */
  private readonly kept = new Map<string, { like: FunctionSpec; spare?: SpareRuntime }>();
  /** Early spares no prewarm has taken yet. */
  private readonly early: SpareRuntime[];
  private closed = false;

  constructor(private readonly options: SparePoolOptions) {
    this.early = [...options.early];
  }

  /**
   * From now on one spare is kept booted for functions like `fn` (and those of its spareKey). An
   * early spare of its kind no prewarm took is kept instead of booting another.
   */
  keep(fn: FunctionSpec): void {
    const key = spareKey(fn);
    if (key === undefined || this.closed || !this.options.usable || this.kept.has(key)) return;
    this.kept.set(key, { like: fn });
    // Taken now: the host stops the early spares left as soon as its prewarms are made.
    void this.boot(key, this.takeEarly(fn));
  }

  /**
   * Boots the kept spare of `key` unless one is available; its slot goes beside the code folders.
   * `early`: a spare booted before the host to keep instead, if it runs in the host's sandbox.
   */
  async boot(key: string, early?: SpareRuntime): Promise<void> {
    const entry = this.kept.get(key);
    if (entry === undefined || entry.spare?.available === true) return this.discard(early);
    // An early spare serves at once; its sandbox is checked below, and again by the environment adopting it.
    entry.spare = early;
    const choice = await this.options.sandbox;
    if (early !== undefined) {
      // Taken meanwhile, or booted in the sandbox the host runs (spares run Node functions only: spareKey).
      if (entry.spare !== early || (early.available && early.sandbox === sandboxKind(choice, true))) return;
      entry.spare = undefined;
      this.discard(early);
    }
    if (this.closed || entry.spare !== undefined) return;
    const { like } = entry;
    try {
      entry.spare = SpareRuntime.start(like, {
        slotRoot: dirname(like.codeDir),
        binary: this.options.binaryFor(like.runtime),
        choice,
        hostEnv: this.options.hostEnv,
      });
    } catch {
      // No room for a slot (a read-only folder, a full disk): new versions start the usual way.
    }
  }

  /** The available kept spare for `fn`, taken; undefined when there is none. */
  take(fn: FunctionSpec): SpareRuntime | undefined {
    const key = spareKey(fn);
    const entry = key === undefined ? undefined : this.kept.get(key);
    const spare = entry?.spare;
    if (entry === undefined || spare?.available !== true) return undefined;
    entry.spare = undefined;
    return spare;
  }

  /** An early spare that can run `fn`, taken; undefined when there is none. */
  takeEarly(fn: FunctionSpec): SpareRuntime | undefined {
    const key = spareKey(fn);
    if (key === undefined || !this.options.usable) return undefined;
    const index = this.early.findIndex((spare) => spare.key === key && spare.available);
    return index < 0 ? undefined : this.early.splice(index, 1)[0];
  }

  /** Gives back an early spare taken for a start that did not happen. */
  returnEarly(spare: SpareRuntime): void {
    if (this.closed) this.stop(spare);
    else this.early.push(spare);
  }

  /** Stops the early spares nobody took. */
  stopEarly(): void {
    for (const spare of this.early.splice(0)) this.stop(spare);
  }

  /** Stops every spare not taken, and boots no more. */
  close(): void {
    this.closed = true;
    for (const { spare } of this.kept.values()) if (spare?.available === true) this.stop(spare);
    this.kept.clear();
    this.stopEarly();
  }

  private stop(spare: SpareRuntime): void {
    this.options.stopping(spare.stop());
  }

  private discard(spare: SpareRuntime | undefined): void {
    if (spare !== undefined) this.stop(spare);
  }
}
