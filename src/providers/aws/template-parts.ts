/**
 * The resources of one environment in a CloudFormation template, one function per kind:
 * queues with their redrive policies, topics with their subscriptions, tables, schedules, and
 * the HTTP API whose routes integrate with the `live` alias.
 *
 * Event sources and gateways name the `live` alias ARN, never a version (DESIGN §5 invariant 6):
 * moving `live` through the Lambda API re-points all of them at once, without a stack update.
 */
import { aliasName, instanceName, resourceName, type Manifest } from '../../manifest/index.js';
import { scheduleRuleName, type LogicalIds } from './aws-names.js';

export type StackManifest = Pick<Manifest, 'app' | 'strategy' | 'environments' | 'functions' | 'resources'>;

export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string[];
}
export type Resources = Record<string, CfnResource>;

/** Everything the parts of one environment need to agree on. */
export interface EnvContext {
  manifest: StackManifest;
  env: string;
  ids: LogicalIds;
  /** Single-stack names every resource id after its environment as well. */
  suffix: string[];
}

/** `arn:aws:lambda:<region>:<account>:function:<instance>:<live alias>`, resolved by CloudFormation. */
export function liveAliasArn(ctx: EnvContext, fn: string): { 'Fn::Sub': string } {
  const instance = instanceName(ctx.manifest, fn, ctx.env);
  return {
    'Fn::Sub': `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${instance}:${aliasName(ctx.manifest, ctx.env, 'live')}`,
  };
}

export function queueId(ctx: EnvContext, queue: string): string {
  return ctx.ids.id('Queue', queue, ...ctx.suffix);
}

export function topicId(ctx: EnvContext, topic: string): string {
  return ctx.ids.id('Topic', topic, ...ctx.suffix);
}

export function tableId(ctx: EnvContext, table: string): string {
  return ctx.ids.id('Table', table, ...ctx.suffix);
}

/** SQS's console default when a dead-letter queue is set without `maxReceiveCount`, as the local provider uses. */
const DEFAULT_MAX_RECEIVE_COUNT = 10;

export function queues(ctx: EnvContext): Resources {
  const resources: Resources = {};
  for (const [queue, def] of Object.entries(ctx.manifest.resources.queues)) {
    resources[queueId(ctx, queue)] = {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: resourceName(ctx.manifest, queue, ctx.env),
        VisibilityTimeout: def.visibilityTimeout,
        // SQS keeps messages 60 s to 14 days (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html).
        ...(def.retention === undefined
          ? {}
          : { MessageRetentionPeriod: Math.min(1_209_600, Math.max(60, Math.round(def.retention / 1000))) }),
        ...(def.deadLetter === undefined
          ? {}
          : {
              RedrivePolicy: {
                deadLetterTargetArn: { 'Fn::GetAtt': [queueId(ctx, def.deadLetter), 'Arn'] },
                maxReceiveCount: def.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT,
              },
            }),
      },
    };
  }
  return resources;
}

/** Who subscribes to each topic: the manifest's `subscribers`, plus functions with a `topic` event. */
function subscriptions(manifest: StackManifest): Map<string, { queues: Set<string>; functions: Set<string> }> {
  const byTopic = new Map(
    Object.keys(manifest.resources.topics).map((topic) => [
      topic,
      { queues: new Set<string>(), functions: new Set<string>() },
    ]),
  );
  for (const [topic, def] of Object.entries(manifest.resources.topics)) {
    for (const subscriber of def.subscribers) {
      if (subscriber.type === 'queue') byTopic.get(topic)?.queues.add(subscriber.name);
      if (subscriber.type === 'function') byTopic.get(topic)?.functions.add(subscriber.name);
    }
  }
  for (const [fn, def] of Object.entries(manifest.functions)) {
    for (const event of def.events) if (event.type === 'topic') byTopic.get(event.name)?.functions.add(fn);
  }
  return byTopic;
}

/** The functions a topic delivers to (for their invoke permissions). */
export function topicsOfFunction(manifest: StackManifest, fn: string): string[] {
  return [...subscriptions(manifest)].filter(([, subs]) => subs.functions.has(fn)).map(([topic]) => topic);
}

export function topics(ctx: EnvContext): Resources {
  const resources: Resources = {};
  const queuePolicies = new Map<string, string[]>();
  for (const [topic, subs] of subscriptions(ctx.manifest)) {
    const id = topicId(ctx, topic);
    resources[id] = {
      Type: 'AWS::SNS::Topic',
      Properties: {
        TopicName: resourceName(ctx.manifest, topic, ctx.env),
        Subscription: [
          ...[...subs.queues]
            .sort()
            .map((queue) => ({ Protocol: 'sqs', Endpoint: { 'Fn::GetAtt': [queueId(ctx, queue), 'Arn'] } })),
          ...[...subs.functions].sort().map((fn) => ({ Protocol: 'lambda', Endpoint: liveAliasArn(ctx, fn) })),
        ],
      },
    };
    for (const queue of subs.queues) queuePolicies.set(queue, [...(queuePolicies.get(queue) ?? []), id]);
  }
  // SNS may deliver to a queue only when the queue's policy allows that topic
  // (https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html).
  for (const [queue, topicIds] of queuePolicies) {
    resources[ctx.ids.id('QueuePolicy', queue, ...ctx.suffix)] = {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: queueId(ctx, queue) }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'sns.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: { 'Fn::GetAtt': [queueId(ctx, queue), 'Arn'] },
              Condition: { ArnEquals: { 'aws:SourceArn': topicIds.sort().map((topic) => ({ Ref: topic })) } },
            },
          ],
        },
      },
    };
  }
  return resources;
}

export function tables(ctx: EnvContext): Resources {
  const resources: Resources = {};
  for (const [table, def] of Object.entries(ctx.manifest.resources.tables)) {
    const keys = [{ ...def.partitionKey, role: 'HASH' }, ...(def.sortKey ? [{ ...def.sortKey, role: 'RANGE' }] : [])];
    resources[tableId(ctx, table)] = {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: resourceName(ctx.manifest, table, ctx.env),
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: keys.map((key) => ({ AttributeName: key.name, AttributeType: key.type })),
        KeySchema: keys.map((key) => ({ AttributeName: key.name, KeyType: key.role })),
      },
    };
  }
  return resources;
}

export function schedules(ctx: EnvContext): Resources {
  const resources: Resources = {};
  for (const [fn, def] of Object.entries(ctx.manifest.functions)) {
    def.events
      .filter((event) => event.type === 'schedule')
      .forEach((event, index) => {
        resources[ctx.ids.id('Schedule', fn, String(index), ...ctx.suffix)] = {
          Type: 'AWS::Events::Rule',
          Properties: {
            Name: scheduleRuleName(ctx.manifest, fn, index, ctx.env),
            ScheduleExpression: event.expression.expression,
            State: 'ENABLED',
            Targets: [
              {
                Id: 'live',
                Arn: liveAliasArn(ctx, fn),
                ...(event.input === undefined ? {} : { Input: JSON.stringify(event.input) }),
              },
            ],
          },
        };
      });
  }
  return resources;
}

export function hasHttpEvents(manifest: Pick<Manifest, 'functions'>, fn?: string): boolean {
  return Object.entries(manifest.functions).some(
    ([name, def]) => (fn === undefined || name === fn) && def.events.some((event) => event.type === 'http'),
  );
}

/**
 * One HTTP API per stack. Multi-stack: the `$default` stage, integrations on `<instance>:live`.
 * Single-stack: one stage per environment whose stage variable `alias` names that environment's
 * live alias, so one set of routes serves every environment
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-stages.stage-variables.html).
 */
export function httpApi(manifest: StackManifest, envs: string[], ids: LogicalIds, name: string): Resources {
  if (!hasHttpEvents(manifest)) return {};
  const single = manifest.strategy === 'single-stack';
  const api = ids.id('HttpApi');
  const resources: Resources = {
    [api]: { Type: 'AWS::ApiGatewayV2::Api', Properties: { Name: name, ProtocolType: 'HTTP' } },
  };
  for (const env of single ? envs : envs.slice(0, 1)) {
    resources[ids.id('HttpStage', ...(single ? [env] : []))] = {
      Type: 'AWS::ApiGatewayV2::Stage',
      Properties: {
        ApiId: { Ref: api },
        StageName: single ? env : '$default',
        AutoDeploy: true,
        ...(single ? { StageVariables: { alias: aliasName(manifest, env, 'live') } } : {}),
      },
    };
  }
  for (const [fn, def] of Object.entries(manifest.functions)) {
    const instance = instanceName(manifest, fn, envs[0] ?? '');
    // `${!x}` is CloudFormation's escape for a literal `${x}`: the stage variable, resolved per request.
    const alias = single ? '${!stageVariables.alias}' : aliasName(manifest, envs[0] ?? '', 'live');
    def.events.forEach((event, index) => {
      if (event.type !== 'http') return;
      const integration = ids.id('Integration', fn, event.payload === '2.0' ? 'V2' : 'V1');
      resources[integration] ??= {
        Type: 'AWS::ApiGatewayV2::Integration',
        Properties: {
          ApiId: { Ref: api },
          IntegrationType: 'AWS_PROXY',
          PayloadFormatVersion: event.payload,
          IntegrationUri: {
            'Fn::Sub': `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${instance}:${alias}`,
          },
        },
      };
      resources[ids.id('Route', fn, String(index))] = {
        Type: 'AWS::ApiGatewayV2::Route',
        Properties: {
          ApiId: { Ref: api },
          RouteKey: `${event.method} ${event.path}`,
          Target: { 'Fn::Join': ['/', ['integrations', { Ref: integration }]] },
        },
      };
    });
  }
  return resources;
}
