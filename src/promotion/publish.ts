/** Publishing one function of a release in one environment: its config resolved there, then a version. */
import { resolveConfig, type FunctionDef, type Manifest } from '../manifest/index.js';
import type { ChangeMeta, Release, VersionRecord } from '../state/index.js';
import { configChangeDetail } from './config-change.js';
import type { AppContext } from './context.js';
import { secretsOf } from './ephemeral-view.js';

export interface PublishTarget {
  manifest: Manifest;
  release: Release;
  env: string;
  fn: Release['functions'][number];
  def: FunctionDef;
  instance: string;
}

/** Publishes (or finds) the version; `meta` gets the config change detail the ledger records. */
export async function publishFunction(
  ctx: AppContext,
  { manifest, release, env, fn, def, instance }: PublishTarget,
  meta: (detail: Record<string, unknown>) => ChangeMeta,
): Promise<{ version: VersionRecord; created: boolean }> {
  const config = resolveConfig(manifest, env, fn.function, release.id, {
    env: (name) => ctx.env[name],
    secret: ctx.secrets.forEnvironment(secretsOf(ctx, env)),
  });
  return ctx.provider.publishVersion(
    {
      instance,
      environment: env,
      function: fn.function,
      releaseId: release.id,
      sha256: fn.sha256,
      runtime: fn.runtime,
      handler: fn.handler,
      memoryMb: def.memory,
      timeoutSec: def.timeout,
      config: config.stored,
      configDigest: config.digest,
    },
    meta(await configChangeDetail(ctx.provider, instance, fn.sha256, config.stored)),
  );
}
