/**
 * Undo on failure: `live` and `smoke` back to the backup in every environment this promotion
 * changed, newest first, then the promotion recorded as failed with its reason.
 */
import { aliasName, instanceName } from '../manifest/index.js';
import { pointAlias } from './aliases.js';
import { eachConcurrently } from './concurrent.js';
import { mayHaveMovedAliases, type Breach, type Step } from './journal.js';
import type { RunScope } from './run-scope.js';

const SETTLED: readonly Step[] = ['live', 'passed', 'pending', 'restored'];

/** The step of the environment the promotion is working on ('pending' when none). */
export function currentStep(scope: RunScope): Step {
  return scope.journal.state.environments.find((env) => !SETTLED.includes(env.step))?.step ?? 'pending';
}

/** Records why the promotion failed (`where`: the environment, default the one it was working on) and rolls back. */
export async function fail(
  scope: RunScope,
  step: Step,
  reason: string,
  details: string[],
  where?: string,
  breach?: Breach,
): Promise<void> {
  const { journal } = scope;
  const environment =
    where ?? journal.state.environments.find((env) => !SETTLED.includes(env.step))?.name ?? journal.record.target;
  journal.state.failure = {
    environment,
    step,
    reason,
    ...(details.length > 0 ? { details } : {}),
    ...(breach ? { breach } : {}),
  };
  journal.save('rolling-back');
  scope.ctx.report.warn(`${reason}; rolling back`);
  await rollBack(scope);
}

/** Points `live` and `smoke` back to the backup in every environment this promotion changed, newest first. */
export async function rollBack(scope: RunScope): Promise<void> {
  const { ctx, journal, manifest } = scope;
  const { state } = journal;
  for (const progress of [...state.environments].reverse()) {
    // From `backed-up` on, a kill may have moved an alias before the journal said so: put back
    // everything that has a backup (moving an alias to where it is changes nothing).
    if (!mayHaveMovedAliases(progress)) continue;
    await scope.ensureHeld();
    const env = progress.name;
    await eachConcurrently(scope.release.functions, async (fn) => {
      const backup = progress.backup?.[fn.function];
      if (!backup) return;
      const instance = instanceName(manifest, fn.function, env);
      const why = { reason: state.failure?.reason ?? 'rolled back' };
      await pointAlias(
        ctx,
        instance,
        aliasName(manifest, env, 'live'),
        backup.live,
        journal.meta(env, fn.function, { role: 'live', rollback: true, ...why }),
      );
      await pointAlias(
        ctx,
        instance,
        aliasName(manifest, env, 'smoke'),
        backup.smoke,
        journal.meta(env, fn.function, { role: 'smoke', rollback: true, ...why }),
      );
    });
    journal.step(progress, 'restored');
    ctx.report.progress(`${env}: live and smoke are back where they were`);
  }
  // In the order they were put back: the failed environment first, then down the chain.
  const restoredAll = state.environments
    .filter((env) => env.step === 'restored')
    .map((env) => env.name)
    .reverse();
  journal.finish('failed', 'promotion.failed', {
    reason: state.failure?.reason,
    step: state.failure?.step,
    failedIn: state.failure?.environment,
    rolledBack: restoredAll,
    ...(state.failure?.breach ? { breach: state.failure.breach } : {}),
  });
}
