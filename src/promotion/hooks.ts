/**
 * preTraffic / postTraffic hooks of a move of `live`: a function of the app (invoked on its
 * version of this release with a CodeDeploy-like event) or a shell command. Failure = rollback.
 * CodeDeploy's hook event: https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html#reference-appspec-file-structure-hooks-section-structure-lambda-sample-function
 */
import { aliasName, instanceName } from '../manifest/index.js';
import type { ShiftTarget } from './alarms.js';
import { runCommand } from './smoke/run-command.js';
import type { RunScope } from './run-scope.js';

const HOOK_TIMEOUT_MS = 5 * 60_000;

/** Runs the hook; returns why it failed, or undefined when it passed. */
export async function runHook(
  scope: RunScope,
  env: string,
  hook: 'preTraffic' | 'postTraffic',
  spec: string,
  targets: ShiftTarget[],
  published: Record<string, number>,
): Promise<string | undefined> {
  const { ctx, journal, release, manifest } = scope;
  const versions = Object.fromEntries(targets.map((target) => [target.function, { from: target.from, to: target.to }]));
  ctx.report.progress(`${env}: ${hook} hook ${spec}`);
  if (spec in manifest.functions) {
    const event = {
      DeploymentId: journal.id,
      LifecycleEventHookExecutionId: `${journal.id}:${env}:${hook}`,
      hook,
      environment: env,
      release: release.id,
      versions,
    };
    const version = published[spec];
    const outcome = await ctx.provider.invoke({
      instance: instanceName(manifest, spec, env),
      qualifier: version === undefined ? aliasName(manifest, env, 'live') : String(version),
      payload: JSON.stringify(event),
    });
    if (!outcome.ok) return `${hook} hook ${spec} failed: ${outcome.error.errorType}: ${outcome.error.errorMessage}`;
    // A hook says Failed as CodeDeploy's PutLifecycleEventHookExecutionStatus would: { "status": "Failed" }.
    if (/"status"\s*:\s*"Failed"/.test(outcome.payload))
      return `${hook} hook ${spec} answered Failed: ${outcome.payload.slice(0, 200)}`;
    return undefined;
  }
  const run = await runCommand(spec, {
    cwd: ctx.loaded.appDir,
    timeoutMs: HOOK_TIMEOUT_MS,
    env: {
      STAGECRAFT_ENV: env,
      STAGECRAFT_RELEASE: release.id,
      STAGECRAFT_PROMOTION: journal.id,
      STAGECRAFT_HOOK: hook,
      STAGECRAFT_VERSIONS: JSON.stringify(versions),
    },
  });
  if (run.exitCode === 0) return undefined;
  const tail = run.output.trim().split('\n').slice(-3).join(' | ');
  return `${hook} hook \`${spec}\` ${run.timedOut ? 'timed out' : `exited ${run.exitCode}`}${tail ? `: ${tail}` : ''}`;
}
