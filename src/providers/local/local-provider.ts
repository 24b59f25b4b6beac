/**
 * The local provider's control plane: versions and aliases live in the state database, code in
 * the artifact store, and an invocation runs the version in a fresh execution environment
 * (a child process speaking the Lambda Runtime API). Queues are tables of the state database
 * and logs are files, one per instance, which `stagecraft up` writes too.
 */
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ArtifactStore } from '../../release/index.js';
import type { Manifest } from '../../manifest/index.js';
import { StagecraftError } from '../../errors.js';
import { aliasName, resourceName, withEphemeral } from '../../manifest/index.js';
import {
  createRedactor,
  FileLogSink,
  followLog,
  invokeOnce,
  logFile,
  rotatedLogFile,
  readLogTail,
  type InvokeOutcome,
} from '../../runtime/index.js';
import type {
  AliasRecord,
  AliasTarget,
  ChangeMeta,
  MetricSummary,
  NewVersion,
  StateStore,
  VersionRecord,
} from '../../state/index.js';
import type {
  InvokeRequest,
  LogTail,
  MessageOptions,
  Provider,
  StackSpec,
  VersionMetricsQuery,
  VersionSecrets,
} from '../provider.js';
import { withInvokeEndpoint } from './invoke-endpoint.js';
import { upGatewayUrl } from './up-file.js';
import { openVersionConfig } from './version-secrets.js';

/** The account id local ARNs carry; no real account has it. */
export const LOCAL_ACCOUNT = '000000000000';

export interface LocalProviderDeps {
  store: StateStore;
  artifacts: ArtifactStore;
  region: string;
  /** Chooses between the two versions of a split alias; `Math.random` unless a test fixes it. */
  random?: () => number;
  /** Where notices for people go (e.g. "runs on the host's Node 20"). */
  warn?: (message: string) => void;
  /**
   * The folder of the file log sink: invocations append to it and `readLogs` reads it. Default:
   * `logs` beside the artifact store (`<app>/.stagecraft/logs`, where `stagecraft up` writes).
   */
  logDir?: string;
  /** Opens the secrets a version pinned; without it, a version that uses secrets cannot run. */
  secrets?: VersionSecrets;
  /** The app's manifest: with it, an invocation gets an SQS/SNS/Lambda endpoint of its environment. */
  manifest?: Manifest;
  /** The app's folder, where a running `stagecraft up` says where it serves; without it, none is looked for. */
  appDir?: string;
}

export class LocalProvider implements Provider {
  readonly kind = 'local' as const;

  private readonly logDir: string;
  private readonly logSink: FileLogSink;
  private readonly warned = new Set<string>();

  constructor(private readonly deps: LocalProviderDeps) {
    this.logDir = deps.logDir ?? join(dirname(deps.artifacts.artifactsDir), 'logs');
    this.logSink = new FileLogSink(this.logDir);
  }

  async ensureStack(stack: StackSpec, change: ChangeMeta): Promise<void> {
    const { control } = this.deps.store;
    this.deps.store.transaction(() => {
      for (const { function: fn, instance } of stack.functions) {
        control.ensureInstance(instance, fn, stack.strategy === 'multi-stack' ? stack.environment : null, {
          ...change,
          environment: stack.environment,
        });
      }
    });
  }

  async publishVersion(spec: NewVersion, change: ChangeMeta): Promise<{ version: VersionRecord; created: boolean }> {
    if (!this.deps.artifacts.has(spec.sha256)) {
      throw new StagecraftError(
        'ARTIFACT_CORRUPT',
        `artifact ${spec.sha256} of ${spec.function} is missing from the artifact store`,
        {
          hint: 'run `stagecraft build` again to restore it; a release can only be deployed while its artifacts exist',
        },
      );
    }
    return this.deps.store.transaction(() => this.deps.store.control.publish(spec, change));
  }

  async getAlias(instance: string, alias: string): Promise<AliasRecord | undefined> {
    return this.deps.store.control.getAlias(instance, alias);
  }

  async updateAlias(target: AliasTarget, change: ChangeMeta): Promise<AliasRecord> {
    return this.deps.store.transaction(() => this.deps.store.control.setAlias(target, change));
  }

  async deleteAlias(instance: string, alias: string, change: ChangeMeta): Promise<void> {
    this.deps.store.transaction(() => this.deps.store.control.deleteAlias(instance, alias, change));
  }

  async listVersions(instance: string): Promise<VersionRecord[]> {
    return this.deps.store.control.listVersions(instance);
  }

  async deleteVersion(instance: string, version: number, change: ChangeMeta): Promise<void> {
    this.deps.store.transaction(() => this.deps.store.control.deleteVersion(instance, version, change));
  }

  async destroyEnvironment(stack: StackSpec, change: ChangeMeta): Promise<string[]> {
    const { store } = this.deps;
    const meta = { ...change, environment: stack.environment };
    const removed: string[] = [];
    const shared = stack.strategy === 'single-stack';
    const ownAliases = new Set([
      aliasName(stack, stack.environment, 'live'),
      aliasName(stack, stack.environment, 'smoke'),
    ]);
    store.transaction(() => {
      for (const { function: fn, instance } of stack.functions) {
        for (const alias of store.control.listAliases()) {
          if (alias.instance !== instance || (shared && !ownAliases.has(alias.name))) continue;
          store.control.deleteAlias(instance, alias.name, { ...meta, function: fn });
          removed.push(`alias ${instance}:${alias.name}`);
        }
        const versions = store.control
          .listVersions(instance)
          .filter((version) => !shared || version.environment === stack.environment);
        for (const version of versions)
          store.control.deleteVersion(instance, version.version, { ...meta, function: fn });
        if (versions.length > 0) removed.push(`${versions.length} version(s) of ${instance}`);
        if (!shared && store.control.deleteInstance(instance, { ...meta, function: fn }))
          removed.push(`function ${instance}`);
      }
      for (const queue of Object.keys(stack.resources.queues)) {
        const name = resourceName(stack, queue, stack.environment);
        const messages = store.queues.purge(name);
        removed.push(`queue ${name} (${messages} message(s))`);
      }
    });
    const stateDir = dirname(this.deps.artifacts.artifactsDir);
    if (!shared && Object.keys(stack.resources.tables).length > 0) {
      rmSync(join(stateDir, 'tables', stack.environment), { recursive: true, force: true });
      removed.push(
        `tables ${Object.keys(stack.resources.tables)
          .map((table) => resourceName(stack, table, stack.environment))
          .join(', ')} and their data`,
      );
    }
    if (!shared) {
      for (const { instance } of stack.functions) {
        const file = logFile(this.logDir, instance);
        for (const path of [file, rotatedLogFile(file)]) {
          if (!existsSync(path)) continue;
          rmSync(path, { force: true });
          removed.push(`logs ${path}`);
        }
      }
    }
    return removed;
  }

  async invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    const version = this.resolveQualifier(request.instance, request.qualifier);
    // Ephemeral environments are copies of a chain environment: they get an endpoint of their own too.
    const manifest = this.deps.manifest && withEphemeral(this.deps.manifest, this.deps.store.environments.list());
    if (!manifest || !manifest.environments.some((environment) => environment.name === version.environment))
      return this.invokeVersion(request, version, {});
    return withInvokeEndpoint(
      {
        manifest,
        env: version.environment,
        store: this.deps.store,
        account: LOCAL_ACCOUNT,
        invoke: (instance, qualifier, payload) => this.invoke({ instance, qualifier, payload }),
      },
      (variables) => this.invokeVersion(request, version, variables),
    );
  }

  private async invokeVersion(
    request: InvokeRequest,
    version: VersionRecord,
    variables: Record<string, string>,
  ): Promise<InvokeOutcome> {
    const codeDir = this.deps.artifacts.extract(version.sha256, {
      onTampered: (dir, problem) => this.deps.warn?.(`${dir}: ${problem}; unpacked again from its artifact`),
    });
    const opened = openVersionConfig(version, this.deps.secrets);
    const outcome = await invokeOnce(
      {
        functionName: request.instance,
        version: String(version.version),
        invokedArn: `arn:aws:lambda:${this.deps.region}:${LOCAL_ACCOUNT}:function:${request.instance}:${request.qualifier}`,
        codeDir,
        handler: version.handler,
        runtime: version.runtime,
        memoryMb: version.memoryMb,
        timeoutSec: version.timeoutSec,
        environment: { ...opened.environment, ...variables },
        region: this.deps.region,
        redact: opened.secrets,
      },
      request.payload,
      { warn: (message) => this.warnOnce(message) },
    );
    this.logSink.write({
      instance: request.instance,
      version: String(version.version),
      requestId: outcome.requestId,
      lines: outcome.logs,
    });
    await this.logSink.flush();
    // What `invoke` returns is printed by tools (the CLI, smoke tests, CI logs): a secret the
    // function returns is masked there too. Gateway responses (`up`) are the app's own business.
    return outcome.ok && opened.secrets.length > 0
      ? { ...outcome, payload: createRedactor(opened.secrets)(outcome.payload) }
      : outcome;
  }

  async servingGateway(environment: string): Promise<string | undefined> {
    return this.deps.appDir === undefined ? undefined : upGatewayUrl(this.deps.appDir, environment);
  }

  async sendMessage(queue: string, body: string, options: MessageOptions = {}): Promise<{ messageId: string }> {
    // Durable in the state database: it waits there for a poller (`stagecraft up`), running or not.
    return { messageId: this.deps.store.queues.send(queue, body, options) };
  }

  async readLogs(instance: string, limit: number): Promise<LogTail> {
    const file = logFile(this.logDir, instance);
    const { entries, ...position } = await readLogTail(file, limit);
    return {
      entries,
      source: { file },
      empty: position.end === 0 && entries.length === 0,
      follow: (onEntries, signal) => followLog(file, position, onEntries, signal),
    };
  }

  async versionMetrics(query: VersionMetricsQuery): Promise<MetricSummary> {
    return this.deps.store.metrics.summary(query);
  }

  /** A notice such as "runs on the host's Node 20" is said once per process, not per smoke test. */
  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.deps.warn?.(message);
  }

  /** An alias (following its traffic split) or a version number, to the version that runs. */
  private resolveQualifier(instance: string, qualifier: string): VersionRecord {
    const { control } = this.deps.store;
    let number: number;
    if (/^\d+$/.test(qualifier)) {
      number = Number(qualifier);
    } else {
      const alias = control.getAlias(instance, qualifier);
      if (!alias) {
        throw new StagecraftError('ALIAS_NOT_FOUND', `${instance} has no alias ${qualifier}`, {
          hint: 'deploy a release to this environment first: `stagecraft deploy <env>`',
        });
      }
      const random = this.deps.random ?? Math.random;
      number = alias.extra && random() < alias.extra.weight ? alias.extra.version : alias.version;
    }
    const version = control.getVersion(instance, number);
    if (!version) throw new StagecraftError('VERSION_NOT_FOUND', `${instance} has no version ${number}`);
    return version;
  }
}
