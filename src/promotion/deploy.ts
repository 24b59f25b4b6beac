/**
 * `deploy <env>`: put one release into one environment. For each function: publish a version
 * (the release's code with this environment's config), point `smoke` at it, then `live`.
 * Every step is its own transaction with its ledger record.
 */
import { aliasName, instanceName, resolveConfig, type Manifest } from '../manifest/index.js';
import { StagecraftError } from '../errors.js';
import type { Release, ChangeMeta, VersionRecord } from '../state/index.js';
import { configChangeDetail } from './config-change.js';
import type { AppContext } from './context.js';

export interface DeployedFunction {
  function: string;
  instance: string;
  version: number;
  /** False when identical code and config was already published (Lambda returns that version). */
  published: boolean;
  previousLive: number | null;
  sha256: string;
}

export interface DeployResult {
  environment: string;
  release: string;
  commit: string | null;
  functions: DeployedFunction[];
}

export function resolveRelease(ctx: AppContext, ref: string | undefined): Release {
  if (ref !== undefined) return ctx.store.releases.find(ref);
  const latest = ctx.store.releases.latest();
  if (!latest) throw new StagecraftError('NO_RELEASE', 'there is no release to deploy yet', { hint: 'run `stagecraft build` first' });
  return latest;
}

export function requireEnvironment(manifest: Manifest, env: string): void {
  if (!manifest.environments.some((candidate) => candidate.name === env)) {
    throw new StagecraftError('ENVIRONMENT_UNKNOWN', `no environment "${env}" in ${manifest.app}`, {
      hint: `environments: ${manifest.environments.map((candidate) => candidate.name).join(', ')}`,
    });
  }
}

export async function deploy(ctx: AppContext, env: string, releaseRef?: string): Promise<DeployResult> {
  const release = resolveRelease(ctx, releaseRef);
  const manifest = release.manifest;
  requireEnvironment(manifest, env);
  requireEnvironment(ctx.loaded.manifest, env);

  // Resolve every function's config before anything changes: a missing ${env:…} must change nothing.
  const plans = release.functions.map((fn) => {
    const def = manifest.functions[fn.function];
    if (!def) throw new StagecraftError('STATE_FAILED', `release ${release.id} lists ${fn.function} but its manifest does not`);
    return { fn, def, instance: instanceName(manifest, fn.function, env), config: resolveConfig(manifest, env, fn.function, release.id, { env: (name) => ctx.env[name], secret: ctx.secrets.forEnvironment(env) }) };
  });

  const change = (fn: string, detail: Record<string, unknown> = {}): ChangeMeta => ({
    operation: 'deploy', actor: ctx.actor, environment: env, function: fn, releaseId: release.id, commit: release.commit, detail,
  });
  ctx.report.progress(`deploying ${release.id} to ${env}`);
  await ctx.provider.ensureStack({
    app: manifest.app, environment: env, strategy: manifest.strategy, resources: manifest.resources,
    functions: plans.map((plan) => ({ function: plan.fn.function, instance: plan.instance })),
  }, change(''));

  const published: { plan: (typeof plans)[number]; version: VersionRecord; created: boolean }[] = [];
  for (const plan of plans) {
    const { version, created } = await ctx.provider.publishVersion({
      instance: plan.instance, environment: env, function: plan.fn.function, releaseId: release.id, sha256: plan.fn.sha256,
      runtime: plan.fn.runtime, handler: plan.fn.handler, memoryMb: plan.def.memory, timeoutSec: plan.def.timeout,
      config: plan.config.stored, configDigest: plan.config.digest,
    }, change(plan.fn.function, await configChangeDetail(ctx.provider, plan.instance, plan.fn.sha256, plan.config.stored)));
    published.push({ plan, version, created });
  }
  for (const { plan, version } of published) {
    await ctx.provider.updateAlias({ instance: plan.instance, name: aliasName(manifest, env, 'smoke'), version: version.version }, change(plan.fn.function, { role: 'smoke' }));
  }
  const functions: DeployedFunction[] = [];
  for (const { plan, version, created } of published) {
    const liveName = aliasName(manifest, env, 'live');
    const previous = await ctx.provider.getAlias(plan.instance, liveName);
    await ctx.provider.updateAlias({ instance: plan.instance, name: liveName, version: version.version, expectedRevision: previous?.revision }, change(plan.fn.function, { role: 'live' }));
    functions.push({ function: plan.fn.function, instance: plan.instance, version: version.version, published: created, previousLive: previous?.version ?? null, sha256: plan.fn.sha256 });
    ctx.report.progress(`  ${plan.fn.function}: live → version ${version.version}${created ? '' : ' (unchanged)'}`);
  }
  return { environment: env, release: release.id, commit: release.commit, functions };
}
