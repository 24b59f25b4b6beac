/**
 * `synth` and `plan`, and the bindings the aws provider makes through the Lambda API, on a fixture
 * app that declares every kind of infrastructure (test/fixtures/apps/aws-full). The synthesised
 * template is handed to a real moto_server's CloudFormation as it is printed; `plan` is shown to
 * change nothing; a deploy is read back with the SDK and the AWS CLI.
 */
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetFunctionEventInvokeConfigCommand,
  GetPolicyCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';
import { MOTO_ACCOUNT, startMoto, useEnv, type Moto } from './helpers/moto.js';

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  Metadata: { Stagecraft: Record<string, unknown> };
  Outputs: Record<string, unknown>;
}
interface PlanJson {
  stack: string;
  exists: boolean;
  changed: boolean;
  changes: { action: string; logicalId: string; type: string }[];
}

const arn = (service: string, resource: string) => `arn:aws:${service}:us-east-1:${MOTO_ACCOUNT}:${resource}`;

describe('synth', () => {
  const app = copyApp('aws-full');
  afterAll(() => app.remove());

  it('prints a template of queues, topics, tables, schedules and HTTP routes that name only the live alias', async () => {
    const result = await runCli(['synth', 'dev', '--dir', app.dir]);
    expect(result.code, result.stderr).toBe(0);
    const template = JSON.parse(result.stdout) as Template;
    const types = Object.fromEntries(Object.entries(template.Resources).map(([id, resource]) => [id, resource.Type]));
    expect(types).toEqual({
      QueueJobs: 'AWS::SQS::Queue',
      QueueJobsDlq: 'AWS::SQS::Queue',
      QueueAudit: 'AWS::SQS::Queue',
      TopicEvents: 'AWS::SNS::Topic',
      QueuePolicyAudit: 'AWS::SQS::QueuePolicy',
      TableItems: 'AWS::DynamoDB::Table',
      ScheduleListener0: 'AWS::Events::Rule',
      HttpApi: 'AWS::ApiGatewayV2::Api',
      HttpStage: 'AWS::ApiGatewayV2::Stage',
      IntegrationApiV2: 'AWS::ApiGatewayV2::Integration',
      RouteApi0: 'AWS::ApiGatewayV2::Route',
      IntegrationApiV1: 'AWS::ApiGatewayV2::Integration',
      RouteApi1: 'AWS::ApiGatewayV2::Route',
      ExecutionRole: 'AWS::IAM::Role',
    });
    expect(template.Resources['QueueJobs']?.Properties).toMatchObject({
      QueueName: 'full-jobs-dev',
      VisibilityTimeout: 45,
      MessageRetentionPeriod: 172_800,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['QueueJobsDlq', 'Arn'] }, maxReceiveCount: 4 },
    });
    expect(template.Resources['ScheduleListener0']?.Properties).toMatchObject({
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [{ Input: '{"tick":true}' }],
    });
    // Every reference to a function is to its live alias: never a version, never smoke.
    const text = result.stdout;
    expect(text.match(/function:full-[a-z]+-dev[^"]*/g)?.every((name) => name.endsWith(':live'))).toBe(true);
    expect(JSON.stringify(template.Resources)).not.toContain('smoke');
    expect(template.Resources['RouteApi1']?.Properties).toMatchObject({ RouteKey: 'POST /items' });
    expect(template.Resources['IntegrationApiV1']?.Properties).toMatchObject({ PayloadFormatVersion: '1.0' });
    expect(template.Metadata.Stagecraft['managedThroughLambdaApi']).toContainEqual(
      expect.objectContaining({
        function: 'full-worker-dev',
        eventSourceMappings: [{ queue: 'jobs', alias: 'live', batchSize: 5 }],
        destinations: { onSuccess: 'topic:events', onFailure: 'queue:jobs-dlq' },
      }),
    );
    const again = await runCli(['synth', 'dev', '--dir', app.dir]);
    expect(again.stdout).toBe(result.stdout);
  });

  it('single-stack: one stack for every environment, resources per environment, one API stage per environment', async () => {
    const single = copyApp('aws-full');
    try {
      single.write(
        'stagecraft.yml',
        single.read('stagecraft.yml').replace('provider: aws', 'provider: aws\nstrategy: single-stack'),
      );
      const result = await runCli(['synth', 'prod', '--json', '--dir', single.dir]);
      expect(result.code, result.stderr).toBe(0);
      const { stack, template } = result.json<{ stack: string; template: Template }>();
      expect(stack).toBe('full');
      expect(template.Resources['QueueJobsDev']?.Properties['QueueName']).toBe('full-jobs-dev');
      expect(template.Resources['QueueJobsProd']?.Properties['QueueName']).toBe('full-jobs-prod');
      expect(template.Resources['HttpStageProd']?.Properties).toMatchObject({
        StageName: 'prod',
        StageVariables: { alias: 'prod' },
      });
      expect(JSON.stringify(template.Resources['IntegrationApiV2'])).toContain(
        'function:full-api:${!stageVariables.alias}',
      );
      expect(JSON.stringify(template.Resources['TopicEventsProd'])).toContain('function:full-listener:prod"');
    } finally {
      single.remove();
    }
  });

  it('up refuses an aws app (exit 2): its versions are on AWS, not here', async () => {
    const result = await runCli(['up', '--port', '39999', '--dir', app.dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('provider: aws');
  });

  it('refuses an unknown environment (exit 2)', async () => {
    const result = await runCli(['synth', 'qa', '--dir', app.dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no environment "qa"');
    expect(result.stderr).toContain('dev, prod');
  });
});

describe('synth and plan against moto_server', () => {
  const app = copyApp('aws-full');
  let moto: Moto;
  let restoreEnv: () => void;
  let cloudformation: CloudFormationClient;
  let lambda: LambdaClient;
  const cli = async (args: string[], expectCode = 0) => {
    const result = await runCli([...args, '--json', '--dir', app.dir], { env: moto.env });
    expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(expectCode);
    return result;
  };
  const stackExists = (name: string) =>
    cloudformation.send(new DescribeStacksCommand({ StackName: name })).then(
      (out) => out.Stacks?.[0]?.StackStatus,
      () => undefined,
    );

  beforeAll(async () => {
    moto = await startMoto();
    restoreEnv = useEnv(moto.env);
    cloudformation = new CloudFormationClient({});
    lambda = new LambdaClient({});
  }, 60_000);
  afterAll(async () => {
    cloudformation?.destroy();
    lambda?.destroy();
    restoreEnv?.();
    await moto?.stop();
    app.remove();
  });

  it("moto's CloudFormation accepts the synthesised templates, multi- and single-stack", async () => {
    // Apps of other names than the one deployed below, so that no physical name is taken twice.
    const multi = copyApp('aws-full');
    const single = copyApp('aws-full');
    try {
      multi.write('stagecraft.yml', multi.read('stagecraft.yml').replace(/^app: full/m, 'app: syn'));
      const body = (await runCli(['synth', 'dev', '--dir', multi.dir])).stdout;
      await cloudformation.send(
        new CreateStackCommand({ StackName: 'syn-dev', TemplateBody: body, Capabilities: ['CAPABILITY_IAM'] }),
      );
      expect(await stackExists('syn-dev')).toBe('CREATE_COMPLETE');
      const sqs = new SQSClient({});
      try {
        const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'syn-jobs-dev' }));
        const attributes =
          (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes ?? {};
        expect(JSON.parse(attributes['RedrivePolicy'] ?? '{}')).toEqual({
          deadLetterTargetArn: arn('sqs', 'syn-jobs-dlq-dev'),
          maxReceiveCount: 4,
        });
        expect(attributes['MessageRetentionPeriod']).toBe('172800');
      } finally {
        sqs.destroy();
      }
      const awsCli = (...args: string[]) =>
        JSON.parse(execFileSync('aws', args, { env: { ...process.env, ...moto.env }, encoding: 'utf8' })) as Record<
          string,
          { Protocol?: string; Endpoint?: string; Arn?: string }[]
        >;
      const subscriptions =
        awsCli('sns', 'list-subscriptions-by-topic', '--topic-arn', arn('sns', 'syn-events-dev'))['Subscriptions'] ??
        [];
      expect(subscriptions.map((sub) => [sub.Protocol, sub.Endpoint]).sort()).toEqual([
        ['lambda', arn('lambda', 'function:syn-listener-dev:live')],
        ['sqs', arn('sqs', 'syn-audit-dev')],
      ]);
      const targets =
        awsCli('events', 'list-targets-by-rule', '--rule', 'syn-listener-dev-schedule-0')['Targets'] ?? [];
      expect(targets.map((target) => target.Arn)).toEqual([arn('lambda', 'function:syn-listener-dev:live')]);

      single.write(
        'stagecraft.yml',
        single
          .read('stagecraft.yml')
          .replace('provider: aws', 'provider: aws\nstrategy: single-stack')
          .replace(/^app: full/m, 'app: solo'),
      );
      const singleBody = (await runCli(['synth', 'dev', '--dir', single.dir])).stdout;
      await cloudformation.send(
        new CreateStackCommand({ StackName: 'solo', TemplateBody: singleBody, Capabilities: ['CAPABILITY_IAM'] }),
      );
      expect(await stackExists('solo')).toBe('CREATE_COMPLETE');
      const dynamodb = new DynamoDBClient({});
      try {
        for (const env of ['dev', 'prod'])
          expect(
            (await dynamodb.send(new DescribeTableCommand({ TableName: `solo-items-${env}` }))).Table?.TableStatus,
          ).toBe('ACTIVE');
      } finally {
        dynamodb.destroy();
      }
    } finally {
      multi.remove();
      single.remove();
    }
  });

  it('plan shows the change set of a stack that does not exist yet, and leaves nothing behind', async () => {
    const plan = (await cli(['plan', 'prod'])).json<PlanJson>();
    expect(plan).toMatchObject({ stack: 'full-prod', exists: false, changed: true });
    expect(plan.changes.map((change) => [change.action, change.logicalId])).toEqual(
      expect.arrayContaining([
        ['Add', 'QueueJobs'],
        ['Add', 'TopicEvents'],
        ['Add', 'TableItems'],
        ['Add', 'ExecutionRole'],
        ['Add', 'ScheduleListener0'],
      ]),
    );
    expect(await stackExists('full-prod')).toBeUndefined();
  });

  it('after a deploy, plan shows no change; a manifest change shows up in plan and is not applied', async () => {
    await cli(['build']);
    await cli(['deploy', 'dev']);
    expect((await cli(['plan', 'dev'])).json<PlanJson>()).toMatchObject({
      stack: 'full-dev',
      exists: true,
      changed: false,
    });
    app.write('stagecraft.yml', app.read('stagecraft.yml').replace('    audit: {}', '    audit: {}\n    extra: {}'));
    const plan = (await cli(['plan', 'dev'])).json<PlanJson>();
    expect(plan).toMatchObject({ exists: true, changed: true });
    expect(plan.changes.map((change) => [change.action, change.logicalId])).toContainEqual(['Add', 'QueueExtra']);
    const sqs = new SQSClient({});
    try {
      await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'full-extra-dev' }))).rejects.toThrow();
    } finally {
      sqs.destroy();
    }
  });

  it('binds event sources, invoke permissions and destinations to the live alias', async () => {
    const workerLive = arn('lambda', 'function:full-worker-dev:live');
    const mappings = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: workerLive }));
    expect(
      mappings.EventSourceMappings?.map((mapping) => [
        mapping.EventSourceArn,
        mapping.BatchSize,
        mapping.MaximumBatchingWindowInSeconds,
      ]),
    ).toEqual([[arn('sqs', 'full-jobs-dev'), 5, 2]]);
    const policy = JSON.parse(
      (await lambda.send(new GetPolicyCommand({ FunctionName: 'full-listener-dev', Qualifier: 'live' }))).Policy ??
        '{}',
    ) as { Statement: { Sid: string; Principal: { Service: string }; Resource: string }[] };
    expect(
      policy.Statement.map((statement) => [statement.Sid, statement.Principal.Service, statement.Resource]).sort(),
    ).toEqual([
      ['stagecraft-schedule-0', 'events.amazonaws.com', arn('lambda', 'function:full-listener-dev:live')],
      ['stagecraft-topic-events', 'sns.amazonaws.com', arn('lambda', 'function:full-listener-dev:live')],
    ]);
    const destinations = await lambda.send(
      new GetFunctionEventInvokeConfigCommand({ FunctionName: 'full-worker-dev', Qualifier: 'live' }),
    );
    expect(destinations.DestinationConfig).toEqual({
      OnSuccess: { Destination: arn('sns', 'full-events-dev') },
      OnFailure: { Destination: arn('sqs', 'full-jobs-dlq-dev') },
    });
  });

  it('a changed declaration re-binds at the next move of live, without duplicates', async () => {
    app.write('stagecraft.yml', app.read('stagecraft.yml').replace('batchSize: 5', 'batchSize: 7'));
    await cli(['build']);
    await cli(['deploy', 'dev']);
    const mappings = await lambda.send(
      new ListEventSourceMappingsCommand({ FunctionName: arn('lambda', 'function:full-worker-dev:live') }),
    );
    expect(mappings.EventSourceMappings?.map((mapping) => [mapping.EventSourceArn, mapping.BatchSize])).toEqual([
      [arn('sqs', 'full-jobs-dev'), 7],
    ]);
    // The earlier plan's queue is now applied: deploy brings the stack to the manifest.
    expect((await cli(['plan', 'dev'])).json<PlanJson>()).toMatchObject({ changed: false });
  });

  it('plan refuses an app whose provider is local (exit 2)', async () => {
    const local = copyApp('basic');
    try {
      const result = await runCli(['plan', 'dev', '--dir', local.dir], { env: moto.env });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('provider: local');
    } finally {
      local.remove();
    }
  });
});
