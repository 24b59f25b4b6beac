/**
 * `stagecraft synth <env>`: the CloudFormation template of an environment's stack, a pure
 * function of the manifest — the same manifest always gives the same text, so "did the
 * infrastructure change?" is a comparison of digests and a code-only release never touches the
 * stack (the 4-minute stack updates per stage of serverless#10815 are what this avoids).
 *
 * What the stack holds: the functions' execution role, queues with redrive policies, topics with
 * subscriptions, tables, schedules and the HTTP API, all naming the `live` alias ARN.
 *
 * What it deliberately does not hold: the functions, their versions and aliases, and the
 * bindings that need an alias to exist (event source mappings on the `live` alias, invoke
 * permissions, destinations). Promotion moves alias pointers through the Lambda API in seconds;
 * if CloudFormation owned them, every promotion would be a stack update, and the next stack
 * update would move them back. The provider creates those through the Lambda API and records
 * them in the template's `Metadata` so that `synth` still shows the whole environment.
 */
import { digestOf } from '../../digest.js';
import { aliasName, instanceName } from '../../manifest/index.js';
import { LogicalIds, stackEnvironments, stackName } from './aws-names.js';
import {
  hasHttpEvents,
  httpApi,
  queueId,
  queues,
  schedules,
  tableId,
  tables,
  topicId,
  topics,
  topicsOfFunction,
  type EnvContext,
  type Resources,
  type StackManifest,
} from './template-parts.js';

export interface CfnTemplate {
  AWSTemplateFormatVersion: '2010-09-09';
  Description: string;
  Metadata: Record<string, unknown>;
  Resources: Resources;
  Outputs: Record<string, { Description?: string; Value: unknown }>;
}

export const OUTPUT_ROLE = 'ExecutionRoleArn';
export const OUTPUT_API = 'HttpApiId';
export const OUTPUT_URL = 'HttpApiUrl';

export function synthesize(manifest: StackManifest, env: string): CfnTemplate {
  const envs = stackEnvironments(manifest, env);
  const name = stackName(manifest, env);
  const ids = new LogicalIds();
  const resources: Resources = {};
  const contexts: EnvContext[] = envs.map((each) => ({
    manifest,
    env: each,
    ids,
    suffix: manifest.strategy === 'single-stack' ? [each] : [],
  }));
  for (const ctx of contexts) Object.assign(resources, queues(ctx), topics(ctx), tables(ctx), schedules(ctx));
  Object.assign(resources, httpApi(manifest, envs, ids, name));
  const role = ids.id('ExecutionRole');
  resources[role] = executionRole(contexts);

  const outputs: CfnTemplate['Outputs'] = {
    [OUTPUT_ROLE]: {
      Description: 'the execution role of every function in this stack',
      Value: { 'Fn::GetAtt': [role, 'Arn'] },
    },
  };
  if (hasHttpEvents(manifest)) {
    const api = ids.id('HttpApi');
    outputs[OUTPUT_API] = { Value: { Ref: api } };
    outputs[OUTPUT_URL] = {
      Description: 'the HTTP API; single-stack serves each environment under /<env>',
      Value: { 'Fn::Sub': `https://\${${api}}.execute-api.\${AWS::Region}.\${AWS::URLSuffix}` },
    };
  }
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `Stagecraft ${manifest.strategy} stack ${name} of app ${manifest.app} (${envs.join(', ')})`,
    Metadata: {
      Stagecraft: {
        app: manifest.app,
        strategy: manifest.strategy,
        environments: envs,
        managedThroughLambdaApi: lambdaApiPart(manifest, envs),
      },
    },
    Resources: resources,
    Outputs: outputs,
  };
}

/** The template as printed; `synthesize` builds it in manifest order, so equal manifests give equal text. */
export function templateText(template: CfnTemplate): string {
  return JSON.stringify(template, null, 2);
}

export function templateDigest(template: CfnTemplate): string {
  return digestOf(template);
}

/**
 * One role for the functions of the stack: logs, and the queues, topics and tables the stack
 * declares (handlers reach them by `STAGECRAFT_QUEUE_*` / `_TOPIC_*` / `_TABLE_*`, and event
 * source mappings and destinations act with it).
 */
function executionRole(contexts: EnvContext[]): Resources[string] {
  const queueArns = contexts.flatMap((ctx) =>
    Object.keys(ctx.manifest.resources.queues).map((queue) => ({ 'Fn::GetAtt': [queueId(ctx, queue), 'Arn'] })),
  );
  const topicArns = contexts.flatMap((ctx) =>
    Object.keys(ctx.manifest.resources.topics).map((topic) => ({ Ref: topicId(ctx, topic) })),
  );
  const tableArns = contexts.flatMap((ctx) =>
    Object.keys(ctx.manifest.resources.tables).flatMap((table) => [
      { 'Fn::GetAtt': [tableId(ctx, table), 'Arn'] },
      { 'Fn::Sub': `\${${tableId(ctx, table)}.Arn}/index/*` },
    ]),
  );
  const statements = [
    ...(queueArns.length === 0
      ? []
      : [
          {
            Effect: 'Allow',
            Action: [
              'sqs:ReceiveMessage',
              'sqs:DeleteMessage',
              'sqs:ChangeMessageVisibility',
              'sqs:GetQueueAttributes',
              'sqs:GetQueueUrl',
              'sqs:SendMessage',
            ],
            Resource: queueArns,
          },
        ]),
    ...(topicArns.length === 0 ? [] : [{ Effect: 'Allow', Action: ['sns:Publish'], Resource: topicArns }]),
    ...(tableArns.length === 0
      ? []
      : [
          {
            Effect: 'Allow',
            Action: [
              'dynamodb:GetItem',
              'dynamodb:PutItem',
              'dynamodb:UpdateItem',
              'dynamodb:DeleteItem',
              'dynamodb:Query',
              'dynamodb:Scan',
              'dynamodb:BatchGetItem',
              'dynamodb:BatchWriteItem',
              'dynamodb:ConditionCheckItem',
            ],
            Resource: tableArns,
          },
        ]),
  ];
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      ManagedPolicyArns: [
        { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole' },
      ],
      ...(statements.length === 0
        ? {}
        : {
            Policies: [
              { PolicyName: 'stagecraft-resources', PolicyDocument: { Version: '2012-10-17', Statement: statements } },
            ],
          }),
    },
  };
}

/** What the provider keeps through the Lambda API, per environment, for people reading the template. */
function lambdaApiPart(manifest: StackManifest, envs: string[]): Record<string, unknown>[] {
  return envs.flatMap((env) =>
    Object.entries(manifest.functions).map(([fn, def]) => ({
      environment: env,
      function: instanceName(manifest, fn, env),
      aliases: [aliasName(manifest, env, 'live'), aliasName(manifest, env, 'smoke')],
      eventSourceMappings: def.events.flatMap((event) =>
        event.type === 'queue'
          ? [{ queue: event.name, alias: aliasName(manifest, env, 'live'), batchSize: event.batchSize }]
          : [],
      ),
      invokePermissions: [
        ...(hasHttpEvents(manifest, fn) ? ['apigateway.amazonaws.com'] : []),
        ...topicsOfFunction(manifest, fn).map((topic) => `sns.amazonaws.com (${topic})`),
        ...(def.events.some((event) => event.type === 'schedule') ? ['events.amazonaws.com'] : []),
      ],
      ...(def.destinations
        ? {
            destinations: Object.fromEntries(
              Object.entries(def.destinations).flatMap(([when, target]) =>
                target ? [[when, `${target.type}:${target.name}`]] : [],
              ),
            ),
          }
        : {}),
    })),
  );
}

export type { StackManifest } from './template-parts.js';
