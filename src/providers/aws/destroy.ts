/**
 * `destroy` on AWS: the environment's functions (DeleteFunction without a qualifier removes every
 * version and alias, https://docs.aws.amazon.com/lambda/latest/api/API_DeleteFunction.html), their
 * log groups, and its CloudFormation stack (queues, topics, tables, the HTTP API, the role).
 * Aliases go first through the provider, so each `live` alias's event source mappings go with it.
 * Single-stack shares the function and the stack: only the environment's aliases and versions go.
 */
import { DeleteLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DeleteFunctionCommand } from '@aws-sdk/client-lambda';
import { aliasName } from '../../manifest/index.js';
import type { ChangeMeta } from '../../state/index.js';
import type { StackSpec } from '../provider.js';
import { isNotFound, providerError } from '../../aws-errors.js';
import { stackName } from './aws-names.js';
import type { AwsClients } from './clients.js';
import { lambdaLogGroup } from './log-group.js';
import type { LedgerWriter } from './aws-provider.js';
import type { StackDeployer } from './stack.js';

export interface DestroyDeps {
  clients: AwsClients;
  ledger: LedgerWriter;
  stacks: StackDeployer;
  deleteAlias(instance: string, alias: string, change: ChangeMeta): Promise<void>;
  deleteVersion(instance: string, version: number, change: ChangeMeta): Promise<void>;
  listVersions(instance: string): Promise<{ version: number; environment: string }[]>;
}

export async function destroyAwsEnvironment(
  deps: DestroyDeps,
  stack: StackSpec,
  change: ChangeMeta,
): Promise<string[]> {
  const env = stack.environment;
  const meta = { ...change, environment: env };
  const shared = stack.strategy === 'single-stack';
  const removed: string[] = [];
  const logs = await deps.clients.logs();
  for (const { function: fn, instance } of stack.functions) {
    for (const role of ['live', 'smoke'] as const)
      await deps.deleteAlias(instance, aliasName(stack, env, role), { ...meta, function: fn });
    if (shared) {
      const own = (await deps.listVersions(instance)).filter((version) => version.environment === env);
      for (const version of own) await deps.deleteVersion(instance, version.version, { ...meta, function: fn });
      removed.push(`aliases and ${own.length} version(s) of ${instance} for ${env}`);
      continue;
    }
    try {
      await deps.clients.lambda.send(new DeleteFunctionCommand({ FunctionName: instance }));
      await deps.ledger.append({ ...meta, kind: 'instance.deleted', function: fn, instance });
      removed.push(`function ${instance} and its versions`);
    } catch (error) {
      if (!isNotFound(error)) throw providerError(error, `cannot delete function ${instance}`);
    }
    try {
      await logs.send(new DeleteLogGroupCommand({ logGroupName: lambdaLogGroup(instance) }));
      removed.push(`log group ${lambdaLogGroup(instance)}`);
    } catch (error) {
      if (!isNotFound(error)) throw providerError(error, `cannot delete log group ${lambdaLogGroup(instance)}`);
    }
  }
  if (!shared) {
    const name = stackName(stack, env);
    if (await deps.stacks.delete(name)) {
      await deps.ledger.append({ ...meta, kind: 'stack.deleted', detail: { ...meta.detail, stack: name } });
      removed.push(`stack ${name} (queues, topics, tables, API, role)`);
    }
  }
  return removed;
}
