/**
 * Resolves `instance:alias` to the version that runs, for a long-running `up`. Other commands
 * (deploy, promote, rollback) move aliases from other processes, so the resolver re-reads the
 * aliases whenever SQLite reports that another connection committed (`PRAGMA data_version`,
 * https://www.sqlite.org/pragma.html#pragma_data_version), checked a few times a second: an
 * alias change takes effect within one second, and requests already running keep the version
 * they started on because they resolved it before the change.
 */
import type { ArtifactStore } from '../../release/index.js';
import type { AliasRecord, StateStore, VersionRecord } from '../../state/index.js';

export interface ResolvedVersion {
  version: VersionRecord;
  /** Where the artifact is unpacked. */
  codeDir: string;
}

export interface VersionResolverOptions {
  store: StateStore;
  artifacts: ArtifactStore;
  /** How often to look for changes made by other processes. */
  pollMs?: number;
  random?: () => number;
  /** Called after a change by another process was picked up. */
  onChange?: () => void;
  /** Told when an unpacked tree no longer matched its artifact and was unpacked again. */
  warn?: (message: string) => void;
}

export class VersionResolver {
  private aliases = new Map<string, AliasRecord>();
  private readonly versions = new Map<string, ResolvedVersion>();
  /** Artifacts unpacked and checked by this resolver: an app's environments share one per function. */
  private readonly trees = new Map<string, string>();
  private dataVersion = -1;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: VersionResolverOptions) {
    this.refresh();
  }

  start(): void {
    this.timer ??= setInterval(() => this.refresh(), this.options.pollMs ?? 200);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Re-reads the aliases if anything changed since the last look; returns whether it did.
   * `force`: re-read anyway — data_version does not move for this connection's own commits
   * (the dashboard's actions in the `up` process).
   */
  refresh(force = false): boolean {
    const current = this.options.store.dataVersion();
    if (current === this.dataVersion && !force) return false;
    const first = this.dataVersion === -1;
    this.dataVersion = current;
    this.aliases = new Map(
      this.options.store.control.listAliases().map((alias) => [`${alias.instance}:${alias.name}`, alias]),
    );
    if (!first) this.options.onChange?.();
    return true;
  }

  alias(instance: string, alias: string): AliasRecord | undefined {
    return this.aliases.get(`${instance}:${alias}`);
  }

  /** The version an invocation of `instance:alias` runs now, following a canary split. */
  resolve(instance: string, alias: string): ResolvedVersion | undefined {
    const record = this.aliases.get(`${instance}:${alias}`);
    if (!record) return undefined;
    const random = this.options.random ?? Math.random;
    const number = record.extra && random() < record.extra.weight ? record.extra.version : record.version;
    return this.version(instance, number);
  }

  version(instance: string, number: number): ResolvedVersion | undefined {
    const key = `${instance}:${number}`;
    let resolved = this.versions.get(key);
    if (!resolved) {
      // Versions never change once published (invariant 2), so they are cached for good.
      const version = this.options.store.control.getVersion(instance, number);
      if (!version) return undefined;
      const onTampered = (dir: string, problem: string): void =>
        this.options.warn?.(`${dir}: ${problem}; unpacked again from its artifact`);
      // Checked once per artifact, not once per environment that runs it (hashing a tree of megabytes).
      let codeDir = this.trees.get(version.sha256);
      if (codeDir === undefined) {
        codeDir = this.options.artifacts.extract(version.sha256, { onTampered });
        this.trees.set(version.sha256, codeDir);
      }
      resolved = { version, codeDir };
      this.versions.set(key, resolved);
    }
    return resolved;
  }
}
