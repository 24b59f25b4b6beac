/**
 * An in-memory Provider for in-process tests of the promotion engine: versions and aliases in
 * maps, every call logged, invocations answered by a function the test sets; and an AppContext
 * around it over an in-memory state store.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactStore } from '../../src/release/index.js';
import { parseManifest } from '../../src/manifest/index.js';
import { SqliteLock, type AppContext } from '../../src/promotion/index.js';
import type {
  AlarmState,
  InvokeRequest,
  LogTail,
  Provider,
  StackSpec,
  VersionMetricsQuery,
} from '../../src/providers/index.js';
import type { InvokeOutcome } from '../../src/runtime/index.js';
import {
  StateStore,
  type AliasRecord,
  type AliasTarget,
  type ChangeMeta,
  type MetricSummary,
  type NewVersion,
  type Release,
  type VersionRecord,
} from '../../src/state/index.js';

export interface FakeCall {
  method: string;
  args: unknown;
}

export class FakeProvider implements Provider {
  readonly kind = 'local' as const;
  readonly calls: FakeCall[] = [];
  readonly versions = new Map<string, VersionRecord[]>();
  readonly aliases = new Map<string, AliasRecord>();
  /** Answers every invocation; default: `{"statusCode":200}`. */
  answer: (request: InvokeRequest, version: number) => InvokeOutcome = () => ok('{"statusCode":200}');
  /** The traffic a version served: default none. */
  metrics: (query: VersionMetricsQuery) => Omit<MetricSummary, 'fromMs' | 'toMs'> = () => ({
    invocations: 0,
    errors: 0,
    throttles: 0,
    p99Ms: null,
  });
  /** Platform alarms by name: default all OK. */
  alarms = new Map<string, AlarmState['state']>();
  /** Throws from `updateAlias` when it returns true for the target (a platform failure mid-way). */
  failUpdate: (target: AliasTarget) => boolean = () => false;

  async ensureStack(stack: unknown): Promise<void> {
    this.calls.push({ method: 'ensureStack', args: stack });
  }

  async publishVersion(spec: NewVersion): Promise<{ version: VersionRecord; created: boolean }> {
    this.calls.push({ method: 'publishVersion', args: spec });
    const list = this.versions.get(spec.instance) ?? [];
    const newest = list[list.length - 1];
    if (newest && newest.sha256 === spec.sha256 && newest.configDigest === spec.configDigest)
      return { version: newest, created: false };
    const version = { ...spec, version: list.length + 1, publishedAt: new Date().toISOString() };
    this.versions.set(spec.instance, [...list, version]);
    return { version, created: true };
  }

  async getAlias(instance: string, alias: string): Promise<AliasRecord | undefined> {
    return this.aliases.get(`${instance}:${alias}`);
  }

  async updateAlias(target: AliasTarget, change: ChangeMeta): Promise<AliasRecord> {
    this.calls.push({
      method: 'updateAlias',
      args: { instance: target.instance, name: target.name, version: target.version, extra: target.extra },
    });
    if (this.failUpdate(target))
      throw new (await import('../../src/errors.js')).StagecraftError('PROVIDER_FAILED', 'the fake provider refused');
    const current = this.aliases.get(`${target.instance}:${target.name}`);
    const record = {
      instance: target.instance,
      name: target.name,
      version: target.version,
      extra: target.extra,
      revision: (current?.revision ?? 0) + 1,
      updatedAt: new Date().toISOString(),
    };
    this.aliases.set(`${target.instance}:${target.name}`, record);
    void change;
    return record;
  }

  async deleteAlias(instance: string, alias: string): Promise<void> {
    this.calls.push({ method: 'deleteAlias', args: { instance, name: alias } });
    this.aliases.delete(`${instance}:${alias}`);
  }

  async listVersions(instance: string): Promise<VersionRecord[]> {
    return this.versions.get(instance) ?? [];
  }

  async deleteVersion(instance: string, version: number): Promise<void> {
    this.calls.push({ method: 'deleteVersion', args: { instance, version } });
    this.versions.set(
      instance,
      (this.versions.get(instance) ?? []).filter((record) => record.version !== version),
    );
  }

  async destroyEnvironment(stack: StackSpec): Promise<string[]> {
    this.calls.push({ method: 'destroyEnvironment', args: { environment: stack.environment } });
    return [];
  }

  async invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    const alias = this.aliases.get(`${request.instance}:${request.qualifier}`);
    return this.answer(request, alias?.version ?? Number(request.qualifier));
  }

  async versionMetrics(query: VersionMetricsQuery): Promise<MetricSummary> {
    return { ...this.metrics(query), fromMs: query.sinceMs, toMs: query.untilMs };
  }

  async alarmStates(names: string[]): Promise<AlarmState[]> {
    return names.map((alarm) => ({ alarm, state: this.alarms.get(alarm) ?? 'OK' }));
  }

  /** The alias moves made so far: `instance:alias → v1+v2@0.1`. */
  moves(): string[] {
    return this.calls
      .filter((call) => call.method === 'updateAlias')
      .map((call) => {
        const args = call.args as {
          instance: string;
          name: string;
          version: number;
          extra?: { version: number; weight: number };
        };
        return `${args.instance}:${args.name} → v${args.version}${args.extra ? `+v${args.extra.version}@${args.extra.weight}` : ''}`;
      });
  }

  async sendMessage(): Promise<{ messageId: string }> {
    return { messageId: 'fake' };
  }

  async readLogs(): Promise<LogTail> {
    return { entries: [], source: { file: '/dev/null' }, empty: true, follow: async () => undefined };
  }

  /** `instance:alias` → version (with `+v<extra>@weight` during a split), for short assertions. */
  pointers(): Record<string, string> {
    return Object.fromEntries(
      [...this.aliases.values()].map((alias) => [
        `${alias.instance}:${alias.name}`,
        `v${alias.version}${alias.extra ? `+v${alias.extra.version}@${alias.extra.weight}` : ''}`,
      ]),
    );
  }
}

export function ok(payload: string): InvokeOutcome {
  return { ok: true, payload, requestId: 'r', durationMs: 1, billedMs: 1, maxMemoryMb: 1, logs: [] };
}

export function failed(message: string): InvokeOutcome {
  return {
    ok: false,
    error: { errorType: 'Error', errorMessage: message },
    cause: 'handler',
    requestId: 'r',
    durationMs: 1,
    billedMs: 1,
    maxMemoryMb: 1,
    logs: [],
  };
}

export interface FakeApp {
  ctx: AppContext;
  provider: FakeProvider;
  store: StateStore;
  progress: string[];
  release(sha256?: string): Release;
}

/** An AppContext over `manifest` text, a FakeProvider and an in-memory store. */
export async function fakeApp(manifestText: string): Promise<FakeApp> {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-fake-'));
  const loaded = await parseManifest(manifestText, { file: join(dir, 'stagecraft.yml') });
  const store = StateStore.open(':memory:');
  const provider = new FakeProvider();
  const progress: string[] = [];
  const ctx: AppContext = {
    loaded: { ...loaded, appDir: dir },
    store,
    provider,
    artifacts: new ArtifactStore({ artifactsDir: join(dir, 'artifacts'), codeDir: join(dir, 'code') }),
    lock: new SqliteLock(store),
    actor: 'tester',
    env: {},
    secrets: { forEnvironment: () => () => undefined, isSet: () => false, allValues: () => [] },
    report: { progress: (message) => progress.push(message), warn: (message) => progress.push(`warn: ${message}`) },
  };
  const release = (sha256 = 'a'.repeat(64)): Release =>
    store.transaction(() =>
      store.releases.record(
        {
          digest: sha256,
          manifestDigest: loaded.digest,
          manifest: loaded.manifest,
          commit: null,
          dirty: false,
          functions: Object.entries(loaded.manifest.functions).map(([fn, def]) => ({
            function: fn,
            sha256,
            size: 1,
            runtime: 'nodejs22.x',
            handler: def.handler,
          })),
        },
        'tester',
      ),
    ).release;
  return { ctx, provider, store, progress, release };
}
