/**
 * What ties an environment's event sources to a function's `live` alias, made through the
 * Lambda API because each needs the alias to exist first: event source mappings on the alias
 * ARN, the invoke permissions of API Gateway, SNS and EventBridge on the alias, and the alias's
 * destinations. Never on `smoke` (DESIGN §5 invariant 6), never on a version.
 *
 * Reconciling is idempotent (create what is missing, correct what differs, remove what is no
 * longer declared), and the digest of what was reconciled is kept on the alias, so it runs only
 * when the declaration changed or a previous run did not finish.
 */
import {
  AddPermissionCommand,
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  DeleteFunctionEventInvokeConfigCommand,
  GetPolicyCommand,
  ListEventSourceMappingsCommand,
  PutFunctionEventInvokeConfigCommand,
  RemovePermissionCommand,
  UpdateEventSourceMappingCommand,
  type EventSourceMappingConfiguration,
} from '@aws-sdk/client-lambda';
import { digestOf } from '../../digest.js';
import { aliasName, instanceName, type Target } from '../../manifest/index.js';
import { isNotFound, providerError } from '../../aws-errors.js';
import { functionArn, queueArn, scheduleRuleArn, topicArn, type Place } from './aws-names.js';
import type { AwsClients } from './clients.js';
import { hasHttpEvents, topicsOfFunction, type StackManifest } from './template-parts.js';

export interface EventSourceBinding {
  eventSourceArn: string;
  batchSize: number;
  maximumBatchingWindowInSeconds: number | undefined;
}
export interface PermissionBinding {
  sid: string;
  principal: string;
  sourceArn: string;
}

export interface DesiredBindings {
  eventSources: EventSourceBinding[];
  permissions: PermissionBinding[];
  destinations: { onSuccess?: string; onFailure?: string } | undefined;
}

/** `apiId` is the stack's HTTP API, when it has one and the platform reported it. */
export function desiredBindings(
  manifest: StackManifest,
  fn: string,
  env: string,
  place: Place,
  apiId: string | undefined,
): DesiredBindings {
  const def = manifest.functions[fn];
  if (!def) return { eventSources: [], permissions: [], destinations: undefined };
  const eventSources = def.events.flatMap((event) =>
    event.type === 'queue'
      ? [
          {
            eventSourceArn: queueArn(place, manifest, event.name, env),
            batchSize: event.batchSize,
            maximumBatchingWindowInSeconds:
              event.maximumBatchingWindow === undefined ? undefined : Math.round(event.maximumBatchingWindow / 1000),
          },
        ]
      : [],
  );
  const permissions: PermissionBinding[] = [];
  if (apiId !== undefined && hasHttpEvents(manifest, fn)) {
    permissions.push({
      sid: 'stagecraft-http',
      principal: 'apigateway.amazonaws.com',
      sourceArn: `arn:aws:execute-api:${place.region}:${place.account}:${apiId}/*`,
    });
  }
  for (const topic of topicsOfFunction(manifest, fn)) {
    permissions.push({
      sid: `stagecraft-topic-${topic}`,
      principal: 'sns.amazonaws.com',
      sourceArn: topicArn(place, manifest, topic, env),
    });
  }
  def.events
    .filter((event) => event.type === 'schedule')
    .forEach((_event, index) => {
      permissions.push({
        sid: `stagecraft-schedule-${index}`,
        principal: 'events.amazonaws.com',
        sourceArn: scheduleRuleArn(place, manifest, fn, index, env),
      });
    });
  const target = (value: Target | undefined): string | undefined => {
    if (!value) return undefined;
    if (value.type === 'queue') return queueArn(place, manifest, value.name, env);
    if (value.type === 'topic') return topicArn(place, manifest, value.name, env);
    return functionArn(place, instanceName(manifest, value.name, env), aliasName(manifest, env, 'live'));
  };
  const onSuccess = target(def.destinations?.onSuccess);
  const onFailure = target(def.destinations?.onFailure);
  return {
    eventSources,
    permissions,
    destinations:
      onSuccess || onFailure ? { ...(onSuccess ? { onSuccess } : {}), ...(onFailure ? { onFailure } : {}) } : undefined,
  };
}

export function bindingsDigest(bindings: DesiredBindings): string {
  return digestOf(bindings).slice(0, 16);
}

/** The event source mappings made on exactly this function ARN (an alias ARN names only that alias's), page after page. */
export async function eventSourceMappings(
  clients: AwsClients,
  functionArn: string,
): Promise<EventSourceMappingConfiguration[]> {
  const mappings: EventSourceMappingConfiguration[] = [];
  let marker: string | undefined;
  do {
    const page = await clients.lambda.send(
      new ListEventSourceMappingsCommand({ FunctionName: functionArn, Marker: marker }),
    );
    mappings.push(...(page.EventSourceMappings ?? []));
    marker = page.NextMarker;
  } while (marker);
  return mappings;
}

interface PolicyStatement {
  Sid?: string;
  Principal?: { Service?: string };
  Condition?: { ArnLike?: Record<string, string> };
}

export class AliasBindings {
  constructor(
    private readonly clients: AwsClients,
    private readonly progress?: (message: string) => void,
  ) {}

  async reconcile(place: Place, instance: string, alias: string, desired: DesiredBindings): Promise<void> {
    const aliasArn = functionArn(place, instance, alias);
    try {
      await this.eventSources(aliasArn, desired.eventSources);
      await this.permissions(instance, alias, desired.permissions);
      await this.destinations(instance, alias, desired.destinations);
    } catch (error) {
      throw providerError(error, `cannot bind the event sources of ${aliasArn}`);
    }
  }

  private async eventSources(aliasArn: string, desired: EventSourceBinding[]): Promise<void> {
    const { lambda } = this.clients;
    const existing = await eventSourceMappings(this.clients, aliasArn);
    for (const want of desired) {
      const have = existing.find((mapping) => mapping.EventSourceArn === want.eventSourceArn);
      const settings = {
        BatchSize: want.batchSize,
        ...(want.maximumBatchingWindowInSeconds === undefined
          ? {}
          : { MaximumBatchingWindowInSeconds: want.maximumBatchingWindowInSeconds }),
      };
      if (!have) {
        this.progress?.(
          `  mapping ${want.eventSourceArn.split(':').pop() ?? ''} to ${aliasArn.split(':').slice(-2).join(':')}`,
        );
        await lambda.send(
          new CreateEventSourceMappingCommand({
            FunctionName: aliasArn,
            EventSourceArn: want.eventSourceArn,
            Enabled: true,
            ...settings,
          }),
        );
      } else if (
        have.BatchSize !== want.batchSize ||
        (want.maximumBatchingWindowInSeconds !== undefined &&
          have.MaximumBatchingWindowInSeconds !== want.maximumBatchingWindowInSeconds)
      ) {
        await lambda.send(new UpdateEventSourceMappingCommand({ UUID: have.UUID, ...settings }));
      }
    }
    for (const stale of existing.filter(
      (mapping) => !desired.some((want) => want.eventSourceArn === mapping.EventSourceArn),
    )) {
      this.progress?.(`  removing the mapping of ${stale.EventSourceArn ?? stale.UUID} from ${aliasArn}`);
      await lambda.send(new DeleteEventSourceMappingCommand({ UUID: stale.UUID }));
    }
  }

  private async permissions(instance: string, alias: string, desired: PermissionBinding[]): Promise<void> {
    const { lambda } = this.clients;
    let statements: PolicyStatement[] = [];
    try {
      const policy = await lambda.send(new GetPolicyCommand({ FunctionName: instance, Qualifier: alias }));
      statements = (JSON.parse(policy.Policy ?? '{}') as { Statement?: PolicyStatement[] }).Statement ?? [];
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const ours = statements.filter((statement) => statement.Sid?.startsWith('stagecraft-'));
    for (const want of desired) {
      const have = ours.find((statement) => statement.Sid === want.sid);
      if (
        have &&
        have.Principal?.Service === want.principal &&
        have.Condition?.ArnLike?.['AWS:SourceArn'] === want.sourceArn
      )
        continue;
      if (have)
        await lambda.send(
          new RemovePermissionCommand({ FunctionName: instance, Qualifier: alias, StatementId: want.sid }),
        );
      await lambda.send(
        new AddPermissionCommand({
          FunctionName: instance,
          Qualifier: alias,
          StatementId: want.sid,
          Action: 'lambda:InvokeFunction',
          Principal: want.principal,
          SourceArn: want.sourceArn,
        }),
      );
    }
    for (const stale of ours.filter((statement) => !desired.some((want) => want.sid === statement.Sid))) {
      await lambda.send(
        new RemovePermissionCommand({ FunctionName: instance, Qualifier: alias, StatementId: stale.Sid }),
      );
    }
  }

  private async destinations(instance: string, alias: string, desired: DesiredBindings['destinations']): Promise<void> {
    const { lambda } = this.clients;
    if (desired) {
      await lambda.send(
        new PutFunctionEventInvokeConfigCommand({
          FunctionName: instance,
          Qualifier: alias,
          DestinationConfig: {
            ...(desired.onSuccess ? { OnSuccess: { Destination: desired.onSuccess } } : {}),
            ...(desired.onFailure ? { OnFailure: { Destination: desired.onFailure } } : {}),
          },
        }),
      );
      return;
    }
    await lambda
      .send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: instance, Qualifier: alias }))
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
  }
}
