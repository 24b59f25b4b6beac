/**
 * The local platform behind `stagecraft up`: one gateway per environment (multi-stack, ports
 * P+1+i) or one gateway with stage prefixes (single-stack, port P+1), warm execution
 * environments, a table server per environment, queue pollers and schedules on `live`. The
 * dashboard on P is `up`'s to wire. Everything is resolved through `live`/`smoke` aliases at request time.
 */
import { join } from 'node:path';
import type { ArtifactStore } from '../../release/index.js';
import { createGateway, type GatewayCall, type GatewayStage, type RouteDef } from '../../gateway/index.js';
import { aliasName, instanceName, type AliasRole, type LoadedManifest, type Manifest } from '../../manifest/index.js';
import {
  DEFAULT_EPHEMERAL_MB,
  type HostedFunction,
  type InvokeOptions,
  type InvokeOutcome,
  type RuntimeHost,
  type WarmUp,
} from '../../runtime/index.js';
import type { StateStore } from '../../state/index.js';
import type { VersionSecrets } from '../provider.js';
import type { EnvironmentEndpoint } from './endpoints/index.js';
import type { EnvironmentEvents } from './events/index.js';
import { LOCAL_ACCOUNT } from './local-provider.js';
import { MetricsRecorder } from './metrics-recorder.js';
import { DEFAULT_PREWARM, manifestSpec } from './prewarm.js';
import { LOCAL_CREDENTIALS, startTableServer, type TableServer } from './tables.js';
import { VersionResolver } from './version-resolver.js';
import { openVersionConfig } from './version-secrets.js';

export interface PlatformOptions {
  loaded: LoadedManifest;
  store: StateStore;
  artifacts: ArtifactStore;
  host: RuntimeHost;
  /** The admin port P; gateways take the ports after it. */
  port: number;
  warn: (message: string) => void;
  /** Opens the secrets a version pinned when its first execution environment starts. */
  secrets?: VersionSecrets;
  /**
   * How many routed functions get an environment started before their first request, in the
   * chain's order (its first environment first); the rest start on first use. Default:
   * DEFAULT_PREWARM.
   */
  prewarm?: number;
  /**
   * For `dev`: keep a runtime process booted ahead for the app's functions, from the start
   * (RuntimeHost.keepSpare), so that a new version's warm-up skips the process's own start.
   */
  keepSpares?: boolean;
}

export interface PlatformUrls {
  dashboard: string;
  environments: { name: string; url: string }[];
  /** Each environment's SQS, SNS and Lambda endpoint (what AWS_ENDPOINT_URL_SQS, _SNS, _LAMBDA hold there). */
  endpoints: { name: string; url: string }[];
}

interface Gateway {
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

export class LocalPlatform {
  private readonly manifest: Manifest;
  private readonly resolver: VersionResolver;
  private readonly hosted = new Map<string, HostedFunction>();
  private readonly warned = new Set<string>();
  private readonly tables = new Map<string, TableServer>();
  private readonly gateways: Gateway[] = [];
  private readonly events = new Map<string, EnvironmentEvents>();
  private readonly endpoints = new Map<string, EnvironmentEndpoint>();
  private stages = new Map<string, { release: string | undefined; stage: GatewayStage }>();
  private readonly metrics: MetricsRecorder;

  constructor(private readonly options: PlatformOptions) {
    this.manifest = options.loaded.manifest;
    this.metrics = new MetricsRecorder(options.store);
    this.resolver = new VersionResolver({
      store: options.store,
      artifacts: options.artifacts,
      onChange: () => this.refreshStages(),
      warn: options.warn,
    });
  }

  async start(): Promise<PlatformUrls> {
    const { manifest } = this;
    this.refreshStages();
    this.resolver.start();
    this.metrics.start();
    await Promise.all([this.startTables(), this.startEndpoints()]);
    this.prewarm();
    // Before the early spares no prewarm took are stopped: a kept spare can be one of them.
    if (this.options.keepSpares === true) this.keepSpares();
    this.options.host.stopEarlySpares();

    const urls: PlatformUrls = {
      dashboard: `http://127.0.0.1:${this.options.port}`,
      environments: [],
      endpoints: [...this.endpoints].map(([name, endpoint]) => ({ name, url: endpoint.url })),
    };
    const envs = manifest.environments.map((environment) => environment.name);
    if (manifest.strategy === 'multi-stack') {
      for (const [index, env] of envs.entries()) {
        const gateway = createGateway({ stages: () => [this.stageOf(env)], invoke: (call) => this.invoke(call) });
        const port = await gateway.listen(this.options.port + 1 + index);
        this.gateways.push(gateway);
        urls.environments.push({ name: env, url: `http://127.0.0.1:${port}` });
      }
    } else {
      const gateway = createGateway({
        stages: () => envs.map((env) => this.stageOf(env)),
        invoke: (call) => this.invoke(call),
      });
      const port = await gateway.listen(this.options.port + 1);
      this.gateways.push(gateway);
      for (const env of envs) urls.environments.push({ name: env, url: `http://127.0.0.1:${port}/${env}` });
    }
    await this.startEvents();
    return urls;
  }

  /** Stops taking requests, lets those in flight finish, then stops every child and server. */
  async stop(): Promise<void> {
    this.resolver.stop();
    await Promise.all([
      ...this.gateways.map((gateway) => gateway.close()),
      ...[...this.endpoints.values()].map((endpoint) => endpoint.stop()),
      ...[...this.events.values()].map((events) => events.stop()),
    ]);
    await this.options.host.drain();
    this.metrics.stop();
    await Promise.all([...this.tables.values()].map((server) => server.stop()));
  }

  /** Reads the aliases now, whoever moved them (the dashboard's `POST /api/sync`, and after its actions). */
  refreshAliases(): void {
    this.resolver.refresh(true);
  }

  /**
   * For `dev`: starts an execution environment of a version just published, before `live` moves
   * to it, so the first request after the move finds it warm; with the init error when it failed.
   */
  async warmVersion(env: string, fn: string, version: number): Promise<WarmUp> {
    const hosted = this.hostedFunction(env, fn, version);
    return hosted ? this.options.host.warmUp(hosted) : { ready: false };
  }

  /**
   * `keepSpares`: one runtime process booted ahead per kind of environment the app's functions
   * need. From the manifest, not the versions live: resolving each would unpack every function's
   * code first. A version a spare cannot run (another runtime, NODE_OPTIONS) starts its own process.
   */
  private keepSpares(): void {
    for (const [name, def] of Object.entries(this.manifest.functions))
      this.options.host.keepSpare(manifestSpec(this.manifest, name, def, this.options.artifacts.codeDir));
  }

  /** For `dev`, once `live` moved to `version`: the environments of the function's other versions drain. */
  retireOtherVersions(env: string, fn: string, version: number): void {
    const hosted = this.hostedFunction(env, fn, version);
    if (hosted) this.options.host.retireOtherVersions(hosted);
  }

  /** Invokes `fn` of `env` through an alias, as event sources and the gateway do. */
  invokeFunction(
    env: string,
    fn: string,
    role: AliasRole | number,
    payload: string,
    options?: InvokeOptions,
  ): Promise<InvokeOutcome> {
    let hosted: HostedFunction | undefined;
    try {
      hosted = this.hostedFunction(env, fn, role);
    } catch (error) {
      // A version whose secrets cannot be opened (no key, a wrong key, a removed secret) cannot
      // start: answered like an init failure, and said once to the person running `up`.
      const message = (error as Error).message;
      if (!this.warned.has(message)) this.options.warn(`${env} ${fn}: ${message}`);
      this.warned.add(message);
      return Promise.resolve(cannotStart(message));
    }
    if (!hosted) return Promise.resolve(notDeployed(instanceName(this.manifest, fn, env), this.qualifier(env, role)));
    if (role !== 'live') return this.options.host.invoke(hosted, payload, options);
    // Traffic through `live` is what a shift's alarms watch, per version (the one the split picked).
    const { functionName, version } = hosted;
    const alias = aliasName(this.manifest, env, role);
    return this.options.host.invoke(hosted, payload, options).then((outcome) => {
      this.metrics.record(functionName, alias, Number(version), outcome);
      return outcome;
    });
  }

  /**
   * One execution environment for each of the first `prewarm` functions a gateway routes to (the
   * chain's first environment first), started now so that their cold start overlaps opening the
   * gateways instead of delaying the first request. The others start on their first request.
   */
  private prewarm(): void {
    let left = this.options.prewarm ?? DEFAULT_PREWARM;
    for (const [env, { stage }] of this.stages) {
      for (const fn of new Set(stage.routes.map((route) => route.function))) {
        if (left <= 0) return;
        let hosted: HostedFunction | undefined;
        try {
          hosted = this.hostedFunction(env, fn, 'live');
        } catch {
          continue; // cannot start (its secrets cannot be opened): its first request says why
        }
        if (!hosted) continue;
        this.options.host.prewarm(hosted);
        left -= 1;
      }
    }
  }

  /**
   * Queue pollers, topics, async invocations and schedules of every environment, all on `live`.
   * Their code loads once the gateways are open: the first request need not wait for it.
   */
  private async startEvents(): Promise<void> {
    const { EnvironmentEvents } = await import('./events/index.js');
    for (const { name: env } of this.manifest.environments) {
      const events = new EnvironmentEvents({
        manifest: this.manifest,
        env,
        store: this.options.store,
        account: LOCAL_ACCOUNT,
        invoke: (fn, payload) => this.invokeFunction(env, fn, 'live', payload),
        isLive: (fn) =>
          this.resolver.alias(instanceName(this.manifest, fn, env), aliasName(this.manifest, env, 'live')) !==
          undefined,
        onError: (error, source) => this.options.warn(`${env} ${source}: ${(error as Error).message}`),
      });
      events.start();
      this.events.set(env, events);
    }
  }

  private invoke(call: GatewayCall): Promise<InvokeOutcome> {
    return this.invokeFunction(call.stage, call.function, call.alias, call.payload, GATEWAY_INVOKE);
  }

  /** An alias of `env`, or a version number (Lambda's Invoke takes either as its qualifier). */
  private qualifier(env: string, target: AliasRole | number): string {
    return typeof target === 'number' ? String(target) : aliasName(this.manifest, env, target);
  }

  private hostedFunction(env: string, fn: string, target: AliasRole | number): HostedFunction | undefined {
    const instance = instanceName(this.manifest, fn, env);
    const alias = this.qualifier(env, target);
    const resolved =
      typeof target === 'number' ? this.resolver.version(instance, target) : this.resolver.resolve(instance, alias);
    if (!resolved) return undefined;
    const key = `${instance}:${resolved.version.version}:${alias}`;
    let hosted = this.hosted.get(key);
    if (!hosted) {
      const { version, codeDir } = resolved;
      const opened = openVersionConfig(version, this.options.secrets);
      const tableServer = this.tables.get(this.manifest.strategy === 'multi-stack' ? env : '');
      const endpoint = this.endpoints.get(env);
      hosted = {
        functionName: instance,
        version: String(version.version),
        invokedArn: `arn:aws:lambda:${this.manifest.region}:${LOCAL_ACCOUNT}:function:${instance}:${alias}`,
        codeDir,
        handler: version.handler,
        runtime: version.runtime,
        memoryMb: version.memoryMb,
        timeoutSec: version.timeoutSec,
        // Like concurrency, read from the manifest `up` runs: the size of the local sandbox's /tmp.
        ephemeralStorageMb: this.manifest.functions[version.function]?.ephemeralStorage ?? DEFAULT_EPHEMERAL_MB,
        region: this.manifest.region,
        concurrency:
          version.function in this.manifest.functions
            ? (this.manifest.functions[version.function]?.concurrency ?? 10)
            : 10,
        redact: opened.secrets,
        environment: {
          ...opened.environment,
          ...LOCAL_CREDENTIALS,
          ...(tableServer ? { AWS_ENDPOINT_URL_DYNAMODB: tableServer.endpoint } : {}),
          // Each environment's handlers sign with their own key, so its endpoints can refuse the others'.
          ...endpoint?.variables(),
        },
      };
      this.hosted.set(key, hosted);
    }
    return hosted;
  }

  private stageOf(env: string): GatewayStage {
    return this.stages.get(env)?.stage ?? { name: env, prefix: this.prefixOf(env), routes: [] };
  }

  private prefixOf(env: string): string {
    return this.manifest.strategy === 'single-stack' ? `/${env}` : '';
  }

  /**
   * Routes are infrastructure that comes with a release: an environment serves the routes of
   * the manifest of the release live there. Recomputed only when aliases change.
   */
  private refreshStages(): void {
    const next = new Map<string, { release: string | undefined; stage: GatewayStage }>();
    for (const { name: env } of this.manifest.environments) {
      const release = this.liveRelease(env);
      const previous = this.stages.get(env);
      if (previous && previous.release === release) {
        next.set(env, previous);
        continue;
      }
      const routes: RouteDef[] = [];
      const source = release === undefined ? undefined : this.options.store.releases.find(release).manifest;
      for (const [fn, def] of Object.entries(source?.functions ?? {})) {
        for (const event of def.events)
          if (event.type === 'http')
            routes.push({ method: event.method, path: event.path, payload: event.payload, function: fn });
      }
      next.set(env, { release, stage: { name: env, prefix: this.prefixOf(env), routes } });
    }
    this.stages = next;
  }

  /**
   * The release whose routes `env` serves: the one live there; before anything is live, the one
   * on `smoke`, so that the smoke tests of an environment's first deploy (or of an approval
   * given while `up` runs) reach their routes.
   */
  private liveRelease(env: string): string | undefined {
    for (const role of ['live', 'smoke'] as const) {
      for (const fn of Object.keys(this.manifest.functions)) {
        const alias = this.resolver.alias(instanceName(this.manifest, fn, env), aliasName(this.manifest, env, role));
        if (alias) return this.resolver.version(alias.instance, alias.version)?.version.releaseId;
      }
    }
    return undefined;
  }

  /** One SQS/SNS/Lambda endpoint per environment (in both strategies), so that environments stay apart. */
  private async startEndpoints(): Promise<void> {
    const { EnvironmentEndpoint } = await import('./endpoints/index.js');
    await Promise.all(
      this.manifest.environments.map(async ({ name: env }) => {
        const endpoint = new EnvironmentEndpoint({
          manifest: this.manifest,
          env,
          region: this.manifest.region,
          account: LOCAL_ACCOUNT,
          queues: this.options.store.queues,
          events: () => this.events.get(env),
          invoke: (fn, role, payload, options) => this.invokeFunction(env, fn, role, payload, options),
          isDeployed: (fn, target) =>
            typeof target === 'number'
              ? this.resolver.version(instanceName(this.manifest, fn, env), target) !== undefined
              : this.resolver.alias(instanceName(this.manifest, fn, env), aliasName(this.manifest, env, target)) !==
                undefined,
        });
        this.endpoints.set(env, endpoint);
        await endpoint.start();
      }),
    );
  }

  private async startTables(): Promise<void> {
    const { manifest } = this;
    if (Object.keys(manifest.resources.tables).length === 0) return;
    const dir = join(this.options.loaded.appDir, '.stagecraft', 'tables');
    // Multi-stack: a server and data folder per environment. Single-stack: one server whose
    // tables carry the environment in their names.
    const groups =
      manifest.strategy === 'multi-stack'
        ? manifest.environments.map((env) => [env.name, [env.name]] as const)
        : [['', manifest.environments.map((env) => env.name)] as const];
    await Promise.all(
      groups.map(async ([key, envs]) => {
        const server = await startTableServer({
          dir: join(dir, key || 'shared'),
          app: manifest.app,
          environments: envs,
          region: manifest.region,
          tables: manifest.resources.tables,
        });
        this.tables.set(key, server);
      }),
    );
  }
}

function cannotStart(message: string): InvokeOutcome {
  return {
    ok: false,
    requestId: '',
    cause: 'init',
    durationMs: 0,
    billedMs: 0,
    maxMemoryMb: 0,
    logs: [],
    error: { errorType: 'Runtime.ConfigurationError', errorMessage: message },
  };
}

/** The gateway's events are made by JSON.stringify: no need to parse them again to check. */
const GATEWAY_INVOKE: InvokeOptions = { payloadIsJson: true };

function notDeployed(instance: string, alias: string): InvokeOutcome {
  return {
    ok: false,
    requestId: '',
    cause: 'init',
    durationMs: 0,
    billedMs: 0,
    maxMemoryMb: 0,
    logs: [],
    error: {
      errorType: 'ResourceNotFoundException',
      errorMessage: `Function not found: ${instance}:${alias} (nothing is deployed there yet)`,
    },
  };
}
