/**
 * The endpoints fixture app, its handlers unchanged, promoted on the aws provider (moto_server):
 * every function finds its environment's queue URLs, topic ARN and function names in the same
 * variables as under `up`, pointing at the real resources; reading a version back leaves them out
 * of its stored config, so deploying the release again publishes nothing new.
 */
import {
  GetFunctionConfigurationCommand,
  GetAliasCommand,
  InvokeCommand,
  ListVersionsByFunctionCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { ListTopicsCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';
import { MOTO_ACCOUNT, startMotoSession, type Moto, type MotoSession } from './helpers/moto.js';

describe('aws provider on moto: the resource variables a handler gets', () => {
  const app = copyApp('endpoints', { insideRepo: true });
  app.write('stagecraft.yml', app.read('stagecraft.yml').replace('app: ends', 'app: ends\nprovider: aws'));
  let moto: Moto;
  let session: MotoSession | undefined;
  let lambda: LambdaClient;
  const run = async (...args: string[]) => {
    const result = await runCli([...args, '--json', '--dir', app.dir], { env: moto.env });
    expect(result.code, result.stderr).toBe(0);
    return result;
  };
  const liveVariables = async (fn: string, env: string) => {
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: `ends-${fn}-${env}`, Name: 'live' }));
    const config = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: `ends-${fn}-${env}`, Qualifier: alias.FunctionVersion }),
    );
    return config.Environment?.Variables ?? {};
  };

  beforeAll(async () => {
    session = await startMotoSession();
    ({ moto, lambda } = session);
    await run('build');
    await run('promote');
  }, 180_000);
  afterAll(async () => {
    await session?.stop();
    app.remove();
  });

  it('sets STAGECRAFT_QUEUE_*_URL, STAGECRAFT_TOPIC_*_ARN and STAGECRAFT_FUNCTION_* to the real resources of each environment', async () => {
    // moto stands in for sqs.us-east-1.amazonaws.com: the client must not take the URL's host as its endpoint.
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    const sns = new SNSClient({});
    try {
      const topics = (await sns.send(new ListTopicsCommand({}))).Topics?.map((topic) => topic.TopicArn) ?? [];
      for (const env of ['dev', 'prod']) {
        const vars = await liveVariables('probe', env);
        expect(vars['STAGECRAFT_QUEUE_JOBS']).toBe(`ends-jobs-${env}`);
        expect(vars['STAGECRAFT_QUEUE_JOBS_URL']).toBe(
          `https://sqs.us-east-1.amazonaws.com/${MOTO_ACCOUNT}/ends-jobs-${env}`,
        );
        expect(vars['STAGECRAFT_QUEUE_AUDIT_URL']).toBe(
          `https://sqs.us-east-1.amazonaws.com/${MOTO_ACCOUNT}/ends-audit-${env}`,
        );
        expect(vars['STAGECRAFT_TOPIC_NOTIFY_ARN']).toBe(`arn:aws:sns:us-east-1:${MOTO_ACCOUNT}:ends-notify-${env}`);
        expect(topics).toContain(vars['STAGECRAFT_TOPIC_NOTIFY_ARN']);
        expect(vars['STAGECRAFT_FUNCTION_ECHO']).toBe(`ends-echo-${env}:live`);
        // The URL reaches the queue the stack made: what a handler sends with it arrives there.
        const real = (await sqs.send(new GetQueueUrlCommand({ QueueName: `ends-jobs-${env}` }))).QueueUrl;
        await sqs.send(
          new SendMessageCommand({ QueueUrl: vars['STAGECRAFT_QUEUE_JOBS_URL'], MessageBody: `to ${env}` }),
        );
        const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: real, WaitTimeSeconds: 1 }));
        expect(received.Messages?.map((message) => message.Body)).toEqual([`to ${env}`]);
        // And the function name is one Invoke takes.
        const invoked = await lambda.send(
          new InvokeCommand({ FunctionName: vars['STAGECRAFT_FUNCTION_ECHO'], Payload: Buffer.from('{"hello":1}') }),
        );
        expect(invoked.StatusCode).toBe(200);
      }
    } finally {
      sqs.destroy();
      sns.destroy();
    }
  });

  it('keeps the locators out of the stored config: deploying the same release again publishes no version', async () => {
    const before = (await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'ends-probe-dev' }))).Versions
      ?.length;
    const deployed = await run('deploy', 'dev');
    expect(deployed.stdout).not.toContain('"error"');
    const after = (await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'ends-probe-dev' }))).Versions
      ?.length;
    expect(after).toBe(before);
    const shown = await run('config', 'show', 'dev');
    expect(shown.stdout).not.toContain('STAGECRAFT_LOCATORS');
  });
});
