/**
 * What the parts of one promotion run share: the app, the journal, the release and its manifest,
 * the lock check; and the two things every part does with them (read an environment's gate,
 * move one alias of every function).
 */
import { aliasName, instanceName, type EnvironmentDef, type Manifest } from '../manifest/index.js';
import { StagecraftError } from '../errors.js';
import type { Release } from '../state/index.js';
import { pointAlias } from './aliases.js';
import { eachConcurrently } from './concurrent.js';
import type { AppContext } from './context.js';
import type { Breach, Step } from './journal.js';
import type { RunJournal } from './run-journal.js';

export interface RunScope {
  ctx: AppContext;
  journal: RunJournal;
  release: Release;
  manifest: Manifest;
  /** Throws when this process has lost the lock; called before every step that changes something. */
  ensureHeld: () => Promise<void>;
}

/** The environment's gate, soak, policy, alarms and hooks: the app's manifest first (it may have changed since the build). */
export function gateOf(scope: Pick<RunScope, 'ctx' | 'manifest'>, env: string): EnvironmentDef {
  const def =
    scope.ctx.loaded.manifest.environments.find((candidate) => candidate.name === env) ??
    scope.manifest.environments.find((candidate) => candidate.name === env);
  if (!def) throw new StagecraftError('ENVIRONMENT_UNKNOWN', `no environment "${env}" in ${scope.manifest.app}`);
  return def;
}

export async function moveAll(
  scope: RunScope,
  env: string,
  role: 'live' | 'smoke',
  versions: Record<string, number>,
): Promise<void> {
  await eachConcurrently(scope.release.functions, async (fn) => {
    const version = versions[fn.function];
    if (version === undefined) return;
    const instance = instanceName(scope.manifest, fn.function, env);
    await pointAlias(
      scope.ctx,
      instance,
      aliasName(scope.manifest, env, role),
      version,
      scope.journal.meta(env, fn.function, { role }),
    );
  });
}

/** A failure inside a step: the promotion rolls back with this reason. */
export class StepFailed extends Error {
  constructor(
    readonly step: Step,
    message: string,
    readonly details: string[] = [],
    readonly breach?: Breach,
  ) {
    super(message);
  }
}
