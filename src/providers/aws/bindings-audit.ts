/**
 * `doctor` on AWS, the bindings: the queues a function consumes are mapped to its `live` alias as
 * the release running there declares them, and nothing is mapped to `smoke` (DESIGN §5
 * invariant 6). Invoke permissions and destinations are made together with the mappings and are
 * not read here.
 *
 * A deploy remakes bindings only when the digest kept on the alias differs from the declaration's
 * (bindings.ts), so a mapping deleted or added by hand stays so: each problem says the command
 * that puts it right.
 */
import { GetAliasCommand } from '@aws-sdk/client-lambda';
import { aliasName, instanceName } from '../../manifest/index.js';
import type { AuditedEnvironment, PlatformAudit } from '../platform-audit.js';
import { isNotFound, providerError } from '../../aws-errors.js';
import { functionArn, stackName, type Place } from './aws-names.js';
import { bindingsDigest, desiredBindings, eventSourceMappings } from './bindings.js';
import { decodeAliasMeta } from './metadata.js';
import { stackView, type AuditDeps } from './stack-audit.js';
import { OUTPUT_API } from './template.js';

export async function auditBindings(deps: AuditDeps, environments: AuditedEnvironment[]): Promise<PlatformAudit> {
  const { clients, manifest } = deps;
  const failures: string[] = [];
  const warnings: string[] = [];
  let checked = 0;
  const live = environments.filter((env) => Object.keys(env.live).length > 0);
  const place: Place =
    live.length === 0
      ? { account: '', region: '' }
      : { account: await clients.account(), region: await clients.region() };
  for (const env of live) {
    const stack = await deps.stacks.describe(stackName(manifest, env.name));
    // Without its stack the declared bindings cannot be told (they name its API); the stack check reports it.
    if (!stack) continue;
    const apiId = stack.outputs[OUTPUT_API];
    for (const [fn, release] of Object.entries(env.live)) {
      const instance = instanceName(manifest, fn, env.name);
      const liveAlias = aliasName(manifest, env.name, 'live');
      const liveArn = functionArn(place, instance, liveAlias);
      const desired = desiredBindings(stackView(manifest, release), fn, env.name, place, apiId);
      const mapped = await eventSourceMappings(clients, liveArn).catch((error: unknown) => {
        throw providerError(error, `cannot list the event source mappings of ${liveArn}`);
      });
      for (const want of desired.eventSources) {
        const have = mapped.find((mapping) => mapping.EventSourceArn === want.eventSourceArn);
        if (!have) {
          failures.push(
            `${instance} ${liveAlias}: ${lastPart(want.eventSourceArn)} is not mapped to it, so its messages are not processed; map it: ` +
              `\`aws lambda create-event-source-mapping --function-name ${liveArn} --event-source-arn ${want.eventSourceArn} --batch-size ${want.batchSize}\``,
          );
        } else if (have.BatchSize !== want.batchSize) {
          failures.push(
            `${instance} ${liveAlias}: ${lastPart(want.eventSourceArn)} is mapped with batch size ${have.BatchSize ?? '?'}, declared ${want.batchSize}: ` +
              `\`aws lambda update-event-source-mapping --uuid ${have.UUID ?? '?'} --batch-size ${want.batchSize}\``,
          );
        }
      }
      for (const extra of mapped.filter(
        (mapping) => !desired.eventSources.some((want) => want.eventSourceArn === mapping.EventSourceArn),
      )) {
        failures.push(
          `${instance} ${liveAlias}: ${lastPart(extra.EventSourceArn ?? '?')} is mapped to it but not declared; remove it: \`aws lambda delete-event-source-mapping --uuid ${extra.UUID ?? '?'}\``,
        );
      }
      const smokeAlias = aliasName(manifest, env.name, 'smoke');
      const smokeArn = functionArn(place, instance, smokeAlias);
      const stray = await eventSourceMappings(clients, smokeArn).catch((error: unknown) => {
        throw providerError(error, `cannot list the event source mappings of ${smokeArn}`);
      });
      for (const mapping of stray) {
        failures.push(
          `${instance} ${smokeAlias}: ${lastPart(mapping.EventSourceArn ?? '?')} is mapped to smoke, which only smoke tests may reach; remove it: \`aws lambda delete-event-source-mapping --uuid ${mapping.UUID ?? '?'}\``,
        );
      }
      const recorded = await recordedDigest(deps, instance, liveAlias);
      if (recorded !== undefined && recorded !== bindingsDigest(desired)) {
        warnings.push(
          `${instance} ${liveAlias}: its bindings were made for another declaration than its release's (or their making was interrupted); the next move of ${liveAlias} makes them again`,
        );
      }
      checked++;
    }
  }
  return {
    name: 'bindings',
    failures,
    warnings,
    ok:
      checked === 0
        ? 'nothing is live yet'
        : `the event sources of ${checked} live alias(es) are mapped as declared, and none to smoke`,
    failed: 'event sources are not bound as declared (DESIGN §5 invariant 6)',
    warned: 'bindings were made for another declaration',
  };
}

/** The bindings digest Stagecraft kept on the alias; undefined when the alias is gone (the ledger check reports that). */
async function recordedDigest(deps: AuditDeps, instance: string, alias: string): Promise<string | undefined> {
  try {
    const current = await deps.clients.lambda.send(new GetAliasCommand({ FunctionName: instance, Name: alias }));
    return decodeAliasMeta(current.Description).bindings;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw providerError(error, `cannot read alias ${alias} of ${instance}`);
  }
}

function lastPart(arn: string): string {
  return arn.split(':').pop() ?? arn;
}
