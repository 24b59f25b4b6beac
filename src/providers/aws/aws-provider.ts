/**
 * The `aws` provider: the Provider interface over the real Lambda control plane.
 *
 * - `ensureStack` applies the environment's CloudFormation stack (queues, topics, tables, the
 *   HTTP API, the execution role), and only when its template changed.
 * - `publishVersion` puts the artifact in S3 once (keyed by sha256), brings `$LATEST` to the
 *   version's code and config, and publishes with the expected `CodeSha256`: a version whose code
 *   is not the release's artifact is refused, whatever the platform did.
 * - `updateAlias` moves `live` / `smoke` with UpdateAlias and `RoutingConfig` weights, checking
 *   the expected revision and the versions itself (emulators check neither), and binds the
 *   event sources of a `live` alias the first time it exists or when their declaration changed
 *   (alias-write.ts).
 * - `sendMessage` and `readLogs` go to SQS and CloudWatch Logs (queue-send.ts, log-group.ts).
 * - The CloudWatch alarms of `alarms:` are kept by `ensureStack`, pointed at a shift's new versions by
 *   `armShiftAlarms` and deleted by `destroyEnvironment` (alarms.ts).
 *
 * AWS is the truth: versions and aliases are read back from Lambda, with the release, artifact
 * and revision Stagecraft keeps in their descriptions (see metadata.ts). Every change is written
 * to the ledger right after AWS accepted it — AWS and the ledger cannot share one transaction,
 * so the record follows the change, never precedes it.
 */
import {
  DeleteAliasCommand,
  DeleteFunctionCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  type FunctionConfiguration,
} from '@aws-sdk/client-lambda';
import type { ArtifactStore } from '../../release/index.js';
import { errorName, isNotFound, providerError } from '../../aws-errors.js';
import { StagecraftError } from '../../errors.js';
import { aliasName, instanceName, withEphemeral, type EphemeralRef, type Manifest } from '../../manifest/index.js';
import { createRedactor, redactError, type InvokeOutcome } from '../../runtime/index.js';
import type {
  AliasRecord,
  AliasTarget,
  ChangeMeta,
  LedgerEntry,
  MetricSummary,
  NewLedgerEntry,
  NewVersion,
  VersionRecord,
} from '../../state/index.js';
import type { AuditedEnvironment, PlatformAudit } from '../platform-audit.js';
import type {
  AlarmState,
  ArmedAlarm,
  InvokeRequest,
  LogTail,
  MessageOptions,
  Provider,
  ShiftAlarms,
  StackSpec,
  VersionMetricsQuery,
  VersionSecrets,
} from '../provider.js';
import { AliasReads } from './alias-reads.js';
import { writeAlias, type LiveBindings } from './alias-write.js';
import { ArtifactBucket } from './artifact-bucket.js';
import { destroyAwsEnvironment } from './destroy.js';
import { stackEnvironments, stackName, type Place } from './aws-names.js';
import { AliasBindings, bindingsDigest, desiredBindings } from './bindings.js';
import { auditBindings } from './bindings-audit.js';
import type { AwsClients } from './clients.js';
import { FunctionCode } from './function-code.js';
import { invokeFunction } from './invoke.js';
import { awsLocators, lambdaEnvironment, secretValues } from './lambda-environment.js';
import { readFunction } from './read-function.js';
import { decodeAliasMeta, encodeVersionMeta, hexToCodeSha } from './metadata.js';
import { toAliasRecord, toVersionRecord } from './records.js';
import { StackDeployer, type StackState } from './stack.js';
import { auditStacks } from './stack-audit.js';
import { OUTPUT_API, OUTPUT_ROLE, synthesize, type StackManifest } from './template.js';

/** Where the provider's ledger records go: the SQLite ledger, and with `state: dynamodb` the shared table too. */
export interface LedgerWriter {
  append(entry: NewLedgerEntry): void | Promise<void>;
}

export interface AwsProviderDeps {
  clients: AwsClients;
  artifacts: ArtifactStore;
  /** The app's manifest: the environments of a stack, and the bindings when no `ensureStack` told them. */
  manifest: Manifest;
  /** The ephemeral environments there are now (`deploy --ephemeral` adds one while the provider is open). */
  ephemeral?: () => readonly EphemeralRef[];
  ledger: LedgerWriter;
  /**
   * Whether the app may still have alarms Stagecraft keeps: the last `alarms.kept` or `alarms.deleted`
   * record (of any machine, with shared state) says some remained. An app whose manifest asks for none
   * makes no CloudWatch call unless this says so; without it, such an app's old alarms wait for `destroy`.
   */
  alarmsRemain?: () => Promise<boolean>;
  /**
   * The last ledger record of an alias (state/ledger). A move this ledger recorded, with the RevisionId
   * Lambda answered, stands for a GetAlias where Lambda checks UpdateAlias's RevisionId: a stale one is
   * refused by Lambda itself, and read afresh then.
   */
  aliasHistory?: (instance: string, alias: string) => LedgerEntry | undefined;
  /** Opens the secrets a version pins, for Lambda's variables; without it a version with secrets is refused. */
  secrets?: VersionSecrets;
  /** The artifact bucket; default `stagecraft-<account>-<region>`. */
  bucket?: string | undefined;
  progress?: (message: string) => void;
  /** Poll interval for CloudFormation and Lambda state; emulators answer at once. */
  pollMs?: number;
  now?: () => Date;
}

export class AwsProvider implements Provider {
  readonly kind = 'aws' as const;

  private readonly bucket: ArtifactBucket;
  private readonly stacks: StackDeployer;
  private readonly code: FunctionCode;
  private readonly bindings: AliasBindings;
  /** Stack states read or applied by this process, by stack name. */
  private readonly stackStates = new Map<string, StackState>();
  /** The manifest view each environment's stack was last ensured with. */
  private readonly views = new Map<string, StackManifest>();
  private readonly aliases: AliasReads;
  /** The secret values each version holds, by `instance:version`: versions never change. */
  private readonly versionSecrets = new Map<string, string[]>();
  /** `instance:version` pairs known to exist: versions are immutable, so a yes never changes. */
  private readonly knownVersions = new Set<string>();
  /** `$LATEST` as `newestConfig` just read it, by instance, for the publish that follows (taken once). */
  private readonly latestRead = new Map<string, FunctionConfiguration>();

  constructor(private readonly deps: AwsProviderDeps) {
    const progress = deps.progress;
    this.bucket = new ArtifactBucket({
      clients: deps.clients,
      artifacts: deps.artifacts,
      bucket: deps.bucket,
      ...(progress ? { progress } : {}),
    });
    this.stacks = new StackDeployer({
      clients: deps.clients,
      ...(progress ? { progress } : {}),
      ...(deps.pollMs === undefined ? {} : { pollMs: deps.pollMs }),
    });
    this.code = new FunctionCode({
      clients: deps.clients,
      ...(deps.pollMs === undefined ? {} : { pollMs: deps.pollMs }),
    });
    this.bindings = new AliasBindings(deps.clients, progress);
    this.aliases = new AliasReads({
      clients: deps.clients,
      ...(deps.aliasHistory ? { aliasHistory: deps.aliasHistory } : {}),
    });
  }

  /** The manifest with the ephemeral environments there are now. */
  private manifest(): Manifest {
    return withEphemeral(this.deps.manifest, this.deps.ephemeral?.() ?? []);
  }

  async ensureStack(stack: StackSpec, change: ChangeMeta): Promise<void> {
    const view: StackManifest = {
      app: stack.app,
      strategy: stack.strategy,
      environments: this.manifest().environments,
      resources: stack.resources,
      functions: stack.definitions ?? this.manifest().functions,
    };
    const name = stackName(view, stack.environment);
    const { state, action } = await this.stacks.ensure(name, synthesize(view, stack.environment));
    this.stackStates.set(name, state);
    for (const env of stackEnvironments(view, stack.environment)) this.views.set(env, view);
    if (action !== 'unchanged') {
      await this.deps.ledger.append({
        ...change,
        kind: `stack.${action}`,
        environment: stack.environment,
        detail: { ...change.detail, stack: name, template: state.digest },
      });
    }
    await this.keepAlarms(stack, change);
  }

  /**
   * The CloudWatch alarms of the environment's `alarms:` (alarms.ts). No CloudWatch call for an app that asks for
   * none, unless the ledger says alarms it kept remain: the manifest's last one was just taken out.
   */
  private async keepAlarms(stack: StackSpec, change: ChangeMeta): Promise<void> {
    const manifest = this.manifest();
    const env = stack.environment;
    const judged = (alarms: Manifest['environments'][number]['alarms']) =>
      alarms.some((alarm) => alarm.kind !== 'command' && alarm.kind !== 'cloudwatch');
    const asked = manifest.environments.some((environment) => judged(environment.alarms));
    if (!asked && (await this.deps.alarmsRemain?.()) !== true) return;
    const { syncAlarms } = await import('./alarms.js');
    const { put, deleted, remaining } = await syncAlarms(this.deps.clients, {
      app: stack.app,
      environment: env,
      environments: manifest.environments.map((environment) => environment.name),
      functions: stack.functions.map((fn) => ({ ...fn, alias: aliasName(manifest, env, 'live') })),
      alarms: manifest.environments.find((environment) => environment.name === env)?.alarms ?? [],
    });
    // A check the ledger asked for that finds none left is recorded though nothing changed: the next deploy makes no call.
    if (put.length + deleted.length > 0 || (!asked && remaining === 0))
      await this.deps.ledger.append({
        ...change,
        kind: 'alarms.kept',
        environment: env,
        detail: { ...change.detail, put, deleted, remaining },
      });
  }

  async armShiftAlarms(shift: ShiftAlarms, change: ChangeMeta): Promise<ArmedAlarm[]> {
    const { pointAlarms } = await import('./alarms.js');
    const { armed, put, reset } = await pointAlarms(this.deps.clients, this.manifest().app, shift);
    if (put.length + reset.length > 0) {
      const versions = Object.fromEntries(shift.targets.map((target) => [target.function, target.version]));
      await this.deps.ledger.append({
        ...change,
        kind: 'alarms.pointed',
        environment: shift.environment,
        detail: { ...change.detail, versions, put, reset },
      });
    }
    return armed;
  }

  async publishVersion(spec: NewVersion, change: ChangeMeta): Promise<{ version: VersionRecord; created: boolean }> {
    const role = (await this.stackOf(spec.environment)).outputs[OUTPUT_ROLE];
    if (!role)
      throw new StagecraftError(
        'PROVIDER_FAILED',
        `stack ${stackName(this.manifest(), spec.environment)} has no ${OUTPUT_ROLE} output`,
        { hint: 'deploy the environment again to repair its stack' },
      );
    const [account, region] = await Promise.all([this.deps.clients.account(), this.deps.clients.region()]);
    const view = this.views.get(spec.environment) ?? this.manifest();
    const variables = lambdaEnvironment(
      spec,
      this.deps.secrets,
      awsLocators(view, spec.environment, { account, region }),
    );
    const location = await this.bucket.ensure(spec.sha256, spec.function);
    const read = this.latestRead.get(spec.instance);
    this.latestRead.delete(spec.instance);
    const installed = await this.code.install(spec, location, role, variables, read);
    if (installed.created) {
      await this.deps.ledger.append({
        ...change,
        kind: 'instance.created',
        instance: spec.instance,
        function: spec.function,
        environment: spec.environment,
      });
    }
    const expected = hexToCodeSha(spec.sha256);
    let published: FunctionConfiguration;
    try {
      published = await this.deps.clients.lambda.send(
        new PublishVersionCommand({
          FunctionName: spec.instance,
          CodeSha256: expected,
          Description: encodeVersionMeta({
            release: spec.releaseId,
            sha256: spec.sha256,
            configDigest: spec.configDigest,
            environment: spec.environment,
            function: spec.function,
          }),
        }),
      );
    } catch (error) {
      if (errorName(error) === 'InvalidParameterValueException' && /CodeSha256/i.test((error as Error).message))
        throw codeChanged(spec, undefined, error);
      throw providerError(error, `cannot publish a version of ${spec.instance}`);
    }
    // Lambda checks CodeSha256 itself; an emulator may not, so the answer is checked here too.
    if (published.CodeSha256 !== expected) throw codeChanged(spec, published.Version, undefined);
    const version = toVersionRecord(published);
    this.knownVersions.add(`${spec.instance}:${version.version}`);
    if (installed.changed) {
      await this.deps.ledger.append({
        ...change,
        kind: 'version.published',
        instance: spec.instance,
        version: version.version,
        environment: spec.environment,
        function: spec.function,
        releaseId: spec.releaseId,
        detail: { ...change.detail, sha256: spec.sha256, configDigest: spec.configDigest },
      });
    }
    return { version, created: installed.changed };
  }

  async getAlias(instance: string, alias: string): Promise<AliasRecord | undefined> {
    const current = (await this.aliases.known(instance, alias)) ?? (await this.aliases.read(instance, alias));
    return current && toAliasRecord(instance, current);
  }

  async updateAlias(target: AliasTarget, change: ChangeMeta): Promise<AliasRecord> {
    if (
      target.extra &&
      !(target.extra.weight > 0 && target.extra.weight < 1 && target.extra.version !== target.version)
    ) {
      throw new StagecraftError(
        'ARGUMENT_INVALID',
        `a traffic split needs another version and a weight between 0 and 1, got version ${target.extra.version} at ${target.extra.weight}`,
      );
    }
    for (const version of [target.version, target.extra?.version])
      if (version !== undefined) await this.requireVersion(target.instance, version);
    // The caller read the alias (getAlias) just before, and says which revision it saw: when this
    // process saw the same one last, that read stands; Lambda still checks it through RevisionId.
    const cached = this.aliases.cached(target.instance, target.name);
    const current =
      target.expectedRevision !== undefined &&
      cached &&
      decodeAliasMeta(cached.Description).revision === target.expectedRevision
        ? cached
        : await this.aliases.read(target.instance, target.name);
    const meta = decodeAliasMeta(current?.Description);
    if (target.expectedRevision !== undefined && (current === undefined || meta.revision !== target.expectedRevision)) {
      throw new StagecraftError(
        'STATE_FAILED',
        `alias ${target.name} of ${target.instance} changed while this operation ran (revision ${current ? meta.revision : 'none'}, expected ${target.expectedRevision})`,
        {
          hint: 'read the alias again and retry',
        },
      );
    }
    const revision = meta.revision + 1;
    const updatedAt = (this.deps.now?.() ?? new Date()).toISOString();
    const live = await this.liveBindings(target.instance, target.name);
    const bindings = live ? live.digest : meta.bindings;
    const { answer, from } = await writeAlias(this.deps.clients.lambda, this.aliases, {
      target,
      current,
      revision,
      updatedAt,
      live,
    });
    await this.deps.ledger.append({
      ...change,
      kind: 'alias.moved',
      instance: target.instance,
      alias: target.name,
      version: target.version,
      previousVersion: from ? Number(from.FunctionVersion) : null,
      detail: {
        ...change.detail,
        ...(target.extra ? { extra: target.extra } : {}),
        revision,
        // What the next process needs to move this alias without reading it first (see `recorded`).
        ...(answer.RevisionId ? { revisionId: answer.RevisionId } : {}),
        bindings,
        updatedAt,
      },
    });
    return {
      instance: target.instance,
      name: target.name,
      version: target.version,
      extra: target.extra,
      revision,
      updatedAt,
    };
  }

  async deleteAlias(instance: string, alias: string, change: ChangeMeta): Promise<void> {
    const current = await this.aliases.read(instance, alias);
    if (!current) return;
    const live = await this.liveBindings(instance, alias);
    try {
      // A live alias's event source mappings and permissions go first: a mapping left on a
      // deleted alias would keep taking messages off its queue and fail every one.
      if (live) await live.unbind();
      this.aliases.forget(instance, alias);
      await this.deps.clients.lambda.send(new DeleteAliasCommand({ FunctionName: instance, Name: alias }));
    } catch (error) {
      if (!isNotFound(error)) throw providerError(error, `cannot delete alias ${alias} of ${instance}`);
    }
    await this.deps.ledger.append({
      ...change,
      kind: 'alias.deleted',
      instance,
      alias,
      version: null,
      previousVersion: Number(current.FunctionVersion),
      detail: { ...change.detail, revision: decodeAliasMeta(current.Description).revision + 1 },
    });
  }

  async listVersions(instance: string): Promise<VersionRecord[]> {
    const versions: VersionRecord[] = [];
    let marker: string | undefined;
    try {
      do {
        const page = await this.deps.clients.lambda.send(
          new ListVersionsByFunctionCommand({ FunctionName: instance, Marker: marker }),
        );
        for (const config of page.Versions ?? [])
          if (config.Version !== '$LATEST') versions.push(toVersionRecord(config));
        marker = page.NextMarker;
      } while (marker);
    } catch (error) {
      if (isNotFound(error)) return [];
      throw providerError(error, `cannot list the versions of ${instance}`);
    }
    for (const version of versions) this.knownVersions.add(`${instance}:${version.version}`);
    return versions.sort((a, b) => a.version - b.version);
  }

  /** One version through GetFunction (outside the 15/s budget), rather than a listing. */
  async getVersion(instance: string, version: number): Promise<VersionRecord | undefined> {
    const config = await readFunction(this.deps.clients, instance, String(version));
    if (!config) return undefined;
    this.knownVersions.add(`${instance}:${version}`);
    return toVersionRecord(config);
  }

  /**
   * The code and config of `$LATEST` through GetFunction: Stagecraft publishes after every change it
   * makes to `$LATEST`, so they are the newest version's, without a ListVersionsByFunction.
   */
  async newestConfig(instance: string): Promise<{ sha256: string; config: Record<string, string> } | undefined> {
    const config = await readFunction(this.deps.clients, instance);
    if (!config) return undefined;
    this.latestRead.set(instance, config);
    const { sha256, config: stored } = toVersionRecord(config);
    return { sha256, config: stored };
  }

  async deleteVersion(instance: string, version: number, change: ChangeMeta): Promise<void> {
    const existing = (await this.listVersions(instance)).find((candidate) => candidate.version === version);
    if (!existing) return;
    // With a version as Qualifier, DeleteFunction deletes that version only; Lambda refuses one an
    // alias points at (https://docs.aws.amazon.com/lambda/latest/api/API_DeleteFunction.html).
    await this.deps.clients.lambda
      .send(new DeleteFunctionCommand({ FunctionName: instance, Qualifier: String(version) }))
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw providerError(error, `cannot delete version ${version} of ${instance}`);
      });
    this.knownVersions.delete(`${instance}:${version}`);
    this.versionSecrets.delete(`${instance}:${version}`);
    await this.deps.ledger.append({
      ...change,
      kind: 'version.deleted',
      instance,
      version,
      environment: existing.environment,
      function: existing.function,
      releaseId: existing.releaseId,
      detail: { ...change.detail, sha256: existing.sha256 },
    });
  }

  async destroyEnvironment(stack: StackSpec, change: ChangeMeta): Promise<string[]> {
    const removed = await destroyAwsEnvironment(
      {
        clients: this.deps.clients,
        ledger: this.deps.ledger,
        stacks: this.stacks,
        deleteAlias: (instance, alias, meta) => this.deleteAlias(instance, alias, meta),
        deleteVersion: (instance, version, meta) => this.deleteVersion(instance, version, meta),
        listVersions: (instance) => this.listVersions(instance),
      },
      stack,
      change,
    );
    const { deleteEnvironmentAlarms } = await import('./alarms.js');
    const { deleted: alarms, remaining } = await deleteEnvironmentAlarms(
      this.deps.clients,
      stack.app,
      stack.environment,
    );
    if (alarms.length > 0) {
      await this.deps.ledger.append({
        ...change,
        kind: 'alarms.deleted',
        environment: stack.environment,
        detail: { ...change.detail, alarms, remaining },
      });
      removed.push(`CloudWatch alarms ${alarms.join(', ')}`);
    }
    // What this process remembers of the environment is gone with it.
    this.stackStates.delete(stackName(this.manifest(), stack.environment));
    const gone = (key: string) => stack.functions.some(({ instance }) => key.startsWith(`${instance}:`));
    this.aliases.forgetInstances(stack.functions.map(({ instance }) => instance));
    for (const cache of [this.knownVersions, this.versionSecrets])
      for (const key of [...cache.keys()]) if (gone(key)) cache.delete(key);
    return removed;
  }

  async invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    // Lambda answers 404 for a missing qualifier, but emulators run $LATEST instead; one GetAlias
    // (or a known version) makes "invoke only what exists" hold on every platform.
    let versions: number[];
    if (/^\d+$/.test(request.qualifier)) {
      await this.requireVersion(request.instance, Number(request.qualifier));
      versions = [Number(request.qualifier)];
    } else {
      const alias = await this.aliases.read(request.instance, request.qualifier);
      if (!alias)
        throw new StagecraftError('ALIAS_NOT_FOUND', `${request.instance} has no alias ${request.qualifier}`, {
          hint: 'deploy a release to this environment first: `stagecraft deploy <env>`',
        });
      versions = [
        Number(alias.FunctionVersion),
        ...Object.keys(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).map(Number),
      ];
    }
    const secrets = (
      await Promise.all(versions.map((version) => this.secretValuesOf(request.instance, version)))
    ).flat();
    const outcome = await invokeFunction(this.deps.clients, request);
    if (secrets.length === 0) return outcome;
    // What invoke returns is printed by tools (the CLI, smoke tests, CI logs): a secret the
    // function echoes must not reach them, as with the local provider.
    const redact = createRedactor(secrets);
    const logs = outcome.logs.map(redact);
    if (outcome.ok) return { ...outcome, logs, payload: redact(outcome.payload) };
    return { ...outcome, logs, error: redactError(outcome.error, redact) };
  }

  // SQS and CloudWatch Logs are loaded only by the command that needs one (see AwsClients.sqs).
  async sendMessage(queue: string, body: string, options: MessageOptions = {}): Promise<{ messageId: string }> {
    const { sendToQueue } = await import('./queue-send.js');
    return sendToQueue(this.deps.clients, queue, body, options);
  }

  async readLogs(instance: string, limit: number): Promise<LogTail> {
    const { readLambdaLogs } = await import('./log-group.js');
    return readLambdaLogs(this.deps.clients, instance, limit, this.deps.now);
  }

  async versionMetrics(query: VersionMetricsQuery): Promise<MetricSummary> {
    const { readVersionMetrics } = await import('./cloudwatch.js');
    return readVersionMetrics(this.deps.clients, query);
  }

  async alarmStates(alarms: string[]): Promise<AlarmState[]> {
    const { readAlarmStates } = await import('./cloudwatch.js');
    return readAlarmStates(this.deps.clients, alarms);
  }

  hasArtifact(sha256: string): Promise<boolean> {
    return this.bucket.has(sha256);
  }

  async storeArtifact(sha256: string, fn: string): Promise<void> {
    await this.bucket.ensure(sha256, fn);
  }

  /** AWS is the truth: `doctor` reads each environment's stack and the bindings of `live` from it (stack-audit.ts, bindings-audit.ts). */
  async audit(environments: AuditedEnvironment[]): Promise<PlatformAudit[]> {
    const deps = { clients: this.deps.clients, manifest: this.manifest(), stacks: this.stacks };
    return [await auditStacks(deps, environments), await auditBindings(deps, environments)];
  }

  /** The secret values a version holds in its variables (those its stored config names as references). */
  private async secretValuesOf(instance: string, version: number): Promise<string[]> {
    const key = `${instance}:${version}`;
    let values = this.versionSecrets.get(key);
    if (!values) {
      const config = await readFunction(this.deps.clients, instance, String(version));
      if (!config) throw versionNotFound(instance, version);
      values = secretValues(config.Environment?.Variables ?? {});
      this.versionSecrets.set(key, values);
    }
    return values;
  }

  /** The state of the stack holding `env`, from this process's cache or from CloudFormation. */
  async stackOf(env: string): Promise<StackState> {
    const name = stackName(this.manifest(), env);
    const cached = this.stackStates.get(name);
    if (cached) return cached;
    const state = await this.stacks.describe(name);
    if (!state) {
      throw new StagecraftError('PROVIDER_FAILED', `stack ${name} does not exist`, {
        hint: `\`stagecraft deploy ${env}\` creates it`,
      });
    }
    this.stackStates.set(name, state);
    return state;
  }

  /** An alias may only point at a version that exists (DESIGN §5 invariant 3); Lambda checks, emulators may not. */
  private async requireVersion(instance: string, version: number): Promise<void> {
    const key = `${instance}:${version}`;
    if (this.knownVersions.has(key)) return;
    if (
      !Number.isInteger(version) ||
      version < 1 ||
      !(await readFunction(this.deps.clients, instance, String(version)))
    )
      throw versionNotFound(instance, version);
    this.knownVersions.add(key);
  }

  /** When `alias` is an environment's `live` alias: the digest of its bindings and how to make them. */
  private async liveBindings(instance: string, alias: string): Promise<LiveBindings | undefined> {
    const manifest = this.manifest();
    for (const environment of manifest.environments) {
      const env = environment.name;
      if (aliasName(manifest, env, 'live') !== alias) continue;
      const view = this.views.get(env) ?? manifest;
      const fn = Object.keys(view.functions).find((name) => instanceName(manifest, name, env) === instance);
      if (fn === undefined) continue;
      const [account, region, stack] = await Promise.all([
        this.deps.clients.account(),
        this.deps.clients.region(),
        this.stackOf(env),
      ]);
      const place: Place = { account, region };
      const desired = desiredBindings(view, fn, env, place, stack.outputs[OUTPUT_API]);
      return {
        digest: bindingsDigest(desired),
        reconcile: () => this.bindings.reconcile(place, instance, alias, desired),
        unbind: () =>
          this.bindings.reconcile(place, instance, alias, {
            eventSources: [],
            permissions: [],
            destinations: undefined,
          }),
      };
    }
    return undefined;
  }
}

function versionNotFound(instance: string, version: number): StagecraftError {
  return new StagecraftError('VERSION_NOT_FOUND', `${instance} has no version ${version}`, {
    hint: 'an alias can only point at a published version',
  });
}

function codeChanged(spec: NewVersion, version: string | undefined, cause: unknown): StagecraftError {
  return new StagecraftError(
    'ARTIFACT_CORRUPT',
    `refusing ${version ? `version ${version}` : 'to publish a version'} of ${spec.instance}: its code is not the release's artifact ${spec.sha256}`,
    {
      hint: "another process changed the function's code while this one published; run the command again",
      cause,
    },
  );
}
