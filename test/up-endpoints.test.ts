/**
 * The local AWS endpoints under `up`: handlers using the unmodified @aws-sdk/client-sqs,
 * client-sns and client-lambda (default credentials and region, as on Lambda) reach their own
 * environment's queues, topics and functions, in two environments at once, and nothing crosses.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';
import { startUp, type RunningUp } from './helpers/up.js';

interface Answer {
  ok: boolean;
  output?: Record<string, Json>;
  name?: string;
  code?: string;
  status?: number;
  message?: string;
}

/** What the SDK answered, as JSON the probe handler passed on: read field by field, checked by the assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
describe('up: local SQS, SNS and Lambda endpoints', () => {
  const app = copyApp('endpoints', { insideRepo: true });
  let up: RunningUp;
  beforeAll(async () => {
    for (const args of [['build'], ['deploy', 'dev'], ['deploy', 'prod']]) {
      const result = await runCli([...args, '--dir', app.dir]);
      expect(result.code, result.stderr).toBe(0);
    }
    up = await startUp(app.dir, { ports: 3 });
  }, 180_000);
  afterAll(async () => {
    if (up) expect(await up.stop()).toBe(0);
    app.remove();
  });

  const sdk = async (
    env: string,
    service: 'sqs' | 'sns' | 'lambda',
    command: string,
    input: unknown,
  ): Promise<Answer> => {
    const response = await fetch(`${up.urls[env]}/probe`, {
      method: 'POST',
      body: JSON.stringify({ service, command, input }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as Answer;
  };
  const sqs = (env: string, command: string, input: unknown) => sdk(env, 'sqs', command, input);
  const output = (answer: Answer): Record<string, Json> => {
    expect(answer, JSON.stringify(answer)).toMatchObject({ ok: true });
    return answer.output as Record<string, Json>;
  };
  const variables = async (env: string, names: string[]) => {
    const response = await fetch(`${up.urls[env]}/probe`, { method: 'POST', body: JSON.stringify({ env: names }) });
    return (await response.json()) as Record<string, string | null>;
  };
  /** Receives until `count` messages came (long polling), deleting none. */
  const receiveAll = async (env: string, queueVar: string, count: number, extra: Record<string, unknown> = {}) => {
    const messages: Record<string, Json>[] = [];
    for (let round = 0; round < 20 && messages.length < count; round++) {
      const answer = output(
        await sqs(env, 'ReceiveMessage', { QueueUrl: queueVar, MaxNumberOfMessages: 10, WaitTimeSeconds: 2, ...extra }),
      );
      messages.push(...(answer['Messages'] ?? []));
    }
    return messages;
  };

  it("gives every handler its environment's endpoints and resource variables", async () => {
    const names = [
      'AWS_ENDPOINT_URL_SQS',
      'AWS_ENDPOINT_URL_SNS',
      'AWS_ENDPOINT_URL_LAMBDA',
      'AWS_ENDPOINT_URL_DYNAMODB',
      'STAGECRAFT_QUEUE_JOBS',
      'STAGECRAFT_QUEUE_JOBS_URL',
      'STAGECRAFT_QUEUE_JOBS_DLQ_URL',
      'STAGECRAFT_TOPIC_NOTIFY_ARN',
      'STAGECRAFT_FUNCTION_ECHO',
    ];
    const dev = await variables('dev', names);
    const prod = await variables('prod', names);
    for (const [env, vars] of [
      ['dev', dev],
      ['prod', prod],
    ] as const) {
      expect(vars['AWS_ENDPOINT_URL_SQS']).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(vars['AWS_ENDPOINT_URL_SNS']).toBe(vars['AWS_ENDPOINT_URL_SQS']);
      expect(vars['AWS_ENDPOINT_URL_LAMBDA']).toBe(vars['AWS_ENDPOINT_URL_SQS']);
      expect(vars['AWS_ENDPOINT_URL_DYNAMODB']).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(vars['STAGECRAFT_QUEUE_JOBS']).toBe(`ends-jobs-${env}`);
      expect(vars['STAGECRAFT_QUEUE_JOBS_URL']).toBe(`${vars['AWS_ENDPOINT_URL_SQS']}/000000000000/ends-jobs-${env}`);
      expect(vars['STAGECRAFT_QUEUE_JOBS_DLQ_URL']).toBe(
        `${vars['AWS_ENDPOINT_URL_SQS']}/000000000000/ends-jobs-dlq-${env}`,
      );
      expect(vars['STAGECRAFT_TOPIC_NOTIFY_ARN']).toBe(`arn:aws:sns:us-east-1:000000000000:ends-notify-${env}`);
      expect(vars['STAGECRAFT_FUNCTION_ECHO']).toBe(`ends-echo-${env}:live`);
    }
    expect(dev['AWS_ENDPOINT_URL_SQS']).not.toBe(prod['AWS_ENDPOINT_URL_SQS']);
  });
  it('SendMessage with attributes and ReceiveMessage: the SDK checks the MD5s; the other environment sees nothing', async () => {
    const attributes = {
      kind: { DataType: 'String', StringValue: 'order' },
      count: { DataType: 'Number', StringValue: '3' },
      blob: { DataType: 'Binary', BinaryValue: { $base64: Buffer.from([0, 1, 2, 250]).toString('base64') } },
    };
    const sent = output(
      await sqs('dev', 'SendMessage', {
        QueueUrl: '$STAGECRAFT_QUEUE_JOBS_URL',
        MessageBody: 'hello dev',
        MessageAttributes: attributes,
      }),
    );
    expect(sent['MessageId']).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent['MD5OfMessageBody']).toBe(createHash('md5').update('hello dev').digest('hex'));
    expect(sent['MD5OfMessageAttributes']).toMatch(/^[0-9a-f]{32}$/);
    expect(
      output(await sqs('prod', 'ReceiveMessage', { QueueUrl: '$STAGECRAFT_QUEUE_JOBS_URL', WaitTimeSeconds: 0 }))[
        'Messages'
      ],
    ).toBeUndefined();
    const [message] = await receiveAll('dev', '$STAGECRAFT_QUEUE_JOBS_URL', 1, {
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
    });
    expect(message).toMatchObject({
      MessageId: sent['MessageId'],
      Body: 'hello dev',
      MD5OfBody: sent['MD5OfMessageBody'],
      MD5OfMessageAttributes: sent['MD5OfMessageAttributes'],
    });
    expect(message?.['MessageAttributes']).toMatchObject({
      kind: { DataType: 'String', StringValue: 'order' },
      count: { StringValue: '3' },
    });
    expect(message?.['MessageAttributes']['blob']['BinaryValue']['$base64']).toBe(
      Buffer.from([0, 1, 2, 250]).toString('base64'),
    );
    expect(message?.['Attributes']).toMatchObject({ ApproximateReceiveCount: '1' });
    output(
      await sqs('dev', 'DeleteMessage', {
        QueueUrl: '$STAGECRAFT_QUEUE_JOBS_URL',
        ReceiptHandle: message?.['ReceiptHandle'],
      }),
    );
    const counts = output(
      await sqs('dev', 'GetQueueAttributes', { QueueUrl: '$STAGECRAFT_QUEUE_JOBS_URL', AttributeNames: ['All'] }),
    )['Attributes'];
    expect(counts).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
      QueueArn: 'arn:aws:sqs:us-east-1:000000000000:ends-jobs-dev',
      VisibilityTimeout: '30',
    });
    expect(JSON.parse(counts['RedrivePolicy'])).toEqual({
      deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:ends-jobs-dlq-dev',
      maxReceiveCount: 5,
    });
  });

  it('SendMessageBatch, ReceiveMessage with MaxNumberOfMessages, DeleteMessageBatch, counts by GetQueueAttributes', async () => {
    const entries = Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `batch ${i}` }));
    const sent = output(
      await sqs('prod', 'SendMessageBatch', {
        QueueUrl: '$STAGECRAFT_QUEUE_JOBS_URL',
        Entries: [...entries.slice(0, 9), { Id: 'bad', MessageBody: '\u0000' }],
      }),
    );
    expect(sent['Successful']).toHaveLength(9);
    expect(sent['Failed']).toMatchObject([{ Id: 'bad', SenderFault: true, Code: 'InvalidMessageContents' }]);
    const tooMany = await sqs('prod', 'SendMessageBatch', {
      QueueUrl: '$STAGECRAFT_QUEUE_JOBS_URL',
      Entries: [...entries, { Id: 'x', MessageBody: 'x' }],
    });
    expect(tooMany).toMatchObject({ ok: false, name: 'TooManyEntriesInBatchRequest', status: 400 });
    const first = output(
      await sqs('prod', 'ReceiveMessage', { QueueUrl: '$STAGECRAFT_QUEUE_JOBS_URL', MaxNumberOfMessages: 4 }),
    )['Messages'];
    expect(first).toHaveLength(4);
    const attributes = output(
      await sqs('prod', 'GetQueueAttributes', {
        QueueUrl: '$STAGECRAFT_QUEUE_JOBS_URL',
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    )['Attributes'];
    expect(attributes).toEqual({ ApproximateNumberOfMessages: '5', ApproximateNumberOfMessagesNotVisible: '4' });
    const rest = await receiveAll('prod', '$STAGECRAFT_QUEUE_JOBS_URL', 5);
    const all = [...first, ...rest];
    expect(new Set(all.map((message: Record<string, Json>) => message['Body']))).toEqual(
      new Set(entries.slice(0, 9).map((entry) => entry.MessageBody)),
    );
    const deleted = output(
      await sqs('prod', 'DeleteMessageBatch', {
        QueueUrl: '$STAGECRAFT_QUEUE_JOBS_URL',
        Entries: all.map((message: Record<string, Json>, i: number) => ({
          Id: `d${i}`,
          ReceiptHandle: message['ReceiptHandle'],
        })),
      }),
    );
    expect(deleted['Successful']).toHaveLength(9);
    const after = output(
      await sqs('prod', 'GetQueueAttributes', { QueueUrl: '$STAGECRAFT_QUEUE_JOBS_URL', AttributeNames: ['All'] }),
    )['Attributes'];
    expect(after).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
  });

  it("GetQueueUrl finds this environment's queue; unknown queues and another environment's are answered as AWS does", async () => {
    const vars = await variables('dev', ['STAGECRAFT_QUEUE_JOBS_URL']);
    expect(output(await sqs('dev', 'GetQueueUrl', { QueueName: 'ends-jobs-dev' }))['QueueUrl']).toBe(
      vars['STAGECRAFT_QUEUE_JOBS_URL'],
    );
    expect(await sqs('dev', 'GetQueueUrl', { QueueName: 'nope' })).toMatchObject({
      ok: false,
      name: 'QueueDoesNotExist',
      status: 400,
    });
    expect(await sqs('dev', 'GetQueueUrl', { QueueName: 'ends-jobs-prod' })).toMatchObject({ ok: false, status: 403 });
    const prodUrl = (await variables('prod', ['STAGECRAFT_QUEUE_JOBS_URL']))['STAGECRAFT_QUEUE_JOBS_URL'];
    expect(await sqs('dev', 'SendMessage', { QueueUrl: prodUrl, MessageBody: 'sneaky' })).toMatchObject({
      ok: false,
      status: 403,
    });
    expect(
      await sqs('dev', 'SendMessage', {
        QueueUrl: vars['STAGECRAFT_QUEUE_JOBS_URL']?.replace('ends-jobs-dev', 'ends-missing-dev'),
        MessageBody: 'x',
      }),
    ).toMatchObject({ ok: false, name: 'QueueDoesNotExist' });
    expect(
      output(
        await sqs('prod', 'GetQueueAttributes', { QueueUrl: prodUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
      )['Attributes'],
    ).toEqual({ ApproximateNumberOfMessages: '0' });
  });

  it('ReceiveMessage long-polls until a message comes; visibility hides it; ChangeMessageVisibility shows it again', async () => {
    // An empty queue holds the receive for the whole wait (a lower bound, whatever the load)...
    const emptyStarted = Date.now();
    expect(
      output(await sqs('dev', 'ReceiveMessage', { QueueUrl: '$STAGECRAFT_QUEUE_JOBS_URL', WaitTimeSeconds: 2 }))[
        'Messages'
      ],
    ).toBeUndefined();
    expect(Date.now() - emptyStarted).toBeGreaterThanOrEqual(2_000);
    // ...and a message sent while it waits ends the wait at once.
    const started = Date.now();
    const waiting = sqs('dev', 'ReceiveMessage', {
      QueueUrl: '$STAGECRAFT_QUEUE_JOBS_URL',
      WaitTimeSeconds: 20,
      VisibilityTimeout: 60,
    });
    output(await sqs('dev', 'SendMessage', { QueueUrl: '$STAGECRAFT_QUEUE_JOBS_URL', MessageBody: 'long-polled' }));
    const [message] = output(await waiting)['Messages'];
    expect(message['Body']).toBe('long-polled');
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(
      output(await sqs('dev', 'ReceiveMessage', { QueueUrl: '$STAGECRAFT_QUEUE_JOBS_URL' }))['Messages'],
    ).toBeUndefined();
    output(
      await sqs('dev', 'ChangeMessageVisibility', {
        QueueUrl: '$STAGECRAFT_QUEUE_JOBS_URL',
        ReceiptHandle: message['ReceiptHandle'],
        VisibilityTimeout: 0,
      }),
    );
    const [again] = await receiveAll('dev', '$STAGECRAFT_QUEUE_JOBS_URL', 1, {
      AttributeNames: ['ApproximateReceiveCount'],
    });
    expect(again).toMatchObject({ MessageId: message['MessageId'], Attributes: { ApproximateReceiveCount: '2' } });
    expect(
      await sqs('dev', 'ChangeMessageVisibility', {
        QueueUrl: '$STAGECRAFT_QUEUE_JOBS_URL',
        ReceiptHandle: message['ReceiptHandle'],
        VisibilityTimeout: 0,
      }),
    ).toMatchObject({ ok: false, name: 'MessageNotInflight' });
    expect(
      await sqs('dev', 'DeleteMessage', { QueueUrl: '$STAGECRAFT_QUEUE_JOBS_URL', ReceiptHandle: 'not-a-handle' }),
    ).toMatchObject({ ok: false, name: 'ReceiptHandleIsInvalid' });
    output(
      await sqs('dev', 'DeleteMessage', {
        QueueUrl: '$STAGECRAFT_QUEUE_JOBS_URL',
        ReceiptHandle: again?.['ReceiptHandle'],
      }),
    );
  });

  it('DelaySeconds keeps a message back; PurgeQueue empties the queue; FIFO parameters are refused on a standard queue', async () => {
    output(
      await sqs('dev', 'SendMessage', {
        QueueUrl: '$STAGECRAFT_QUEUE_JOBS_DLQ_URL',
        MessageBody: 'later',
        DelaySeconds: 600,
      }),
    );
    output(await sqs('dev', 'SendMessage', { QueueUrl: '$STAGECRAFT_QUEUE_JOBS_DLQ_URL', MessageBody: 'now' }));
    expect(
      output(
        await sqs('dev', 'GetQueueAttributes', { QueueUrl: '$STAGECRAFT_QUEUE_JOBS_DLQ_URL', AttributeNames: ['All'] }),
      )['Attributes'],
    ).toMatchObject({ ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesDelayed: '1' });
    const got = output(
      await sqs('dev', 'ReceiveMessage', { QueueUrl: '$STAGECRAFT_QUEUE_JOBS_DLQ_URL', MaxNumberOfMessages: 10 }),
    )['Messages'];
    expect(got.map((message: Record<string, Json>) => message['Body'])).toEqual(['now']);
    output(await sqs('dev', 'PurgeQueue', { QueueUrl: '$STAGECRAFT_QUEUE_JOBS_DLQ_URL' }));
    expect(
      output(
        await sqs('dev', 'GetQueueAttributes', { QueueUrl: '$STAGECRAFT_QUEUE_JOBS_DLQ_URL', AttributeNames: ['All'] }),
      )['Attributes'],
    ).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesDelayed: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
    expect(
      await sqs('dev', 'SendMessage', {
        QueueUrl: '$STAGECRAFT_QUEUE_JOBS_DLQ_URL',
        MessageBody: 'x',
        MessageGroupId: 'g',
      }),
    ).toMatchObject({ ok: false, name: 'InvalidParameterValue', status: 400 });
    expect(
      await sqs('dev', 'SendMessage', {
        QueueUrl: '$STAGECRAFT_QUEUE_JOBS_DLQ_URL',
        MessageBody: 'x',
        DelaySeconds: 901,
      }),
    ).toMatchObject({ ok: false, name: 'InvalidParameterValue' });
  });

  it("SNS Publish and PublishBatch fan out to the topic's queue in this environment only", async () => {
    const published = output(
      await sdk('dev', 'sns', 'Publish', {
        TopicArn: '$STAGECRAFT_TOPIC_NOTIFY_ARN',
        Message: 'order shipped',
        Subject: 'shipping',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'ship' } },
      }),
    );
    expect(published['MessageId']).toMatch(/^[0-9a-f-]{36}$/);
    const batch = output(
      await sdk('dev', 'sns', 'PublishBatch', {
        TopicArn: '$STAGECRAFT_TOPIC_NOTIFY_ARN',
        PublishBatchRequestEntries: [
          { Id: 'a', Message: 'first' },
          { Id: 'b', Message: 'second' },
        ],
      }),
    );
    expect(batch['Successful'].map((entry: Record<string, string>) => entry['Id'])).toEqual(['a', 'b']);
    const messages = await receiveAll('dev', '$STAGECRAFT_QUEUE_AUDIT_URL', 3);
    const envelopes = messages.map((message) => JSON.parse(message['Body']) as Record<string, Json>);
    expect(envelopes.map((envelope) => envelope['Message']).sort()).toEqual(['first', 'order shipped', 'second']);
    const shipped = envelopes.find((envelope) => envelope['Message'] === 'order shipped');
    expect(shipped).toMatchObject({
      Type: 'Notification',
      MessageId: published['MessageId'],
      TopicArn: 'arn:aws:sns:us-east-1:000000000000:ends-notify-dev',
      Subject: 'shipping',
      MessageAttributes: { kind: { Type: 'String', Value: 'ship' } },
    });
    expect(
      output(
        await sqs('prod', 'GetQueueAttributes', {
          QueueUrl: '$STAGECRAFT_QUEUE_AUDIT_URL',
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      )['Attributes'],
    ).toEqual({ ApproximateNumberOfMessages: '0' });
    expect(
      await sdk('dev', 'sns', 'Publish', {
        TopicArn: 'arn:aws:sns:us-east-1:000000000000:ends-missing-dev',
        Message: 'x',
      }),
    ).toMatchObject({ ok: false, name: 'NotFoundException', status: 404 });
    expect(
      await sdk('dev', 'sns', 'Publish', {
        TopicArn: 'arn:aws:sns:us-east-1:000000000000:ends-notify-prod',
        Message: 'x',
      }),
    ).toMatchObject({ ok: false, name: 'AuthorizationErrorException', status: 403 });
  });

  it('Lambda Invoke: RequestResponse by name, alias and ARN, with Tail logs and function errors', async () => {
    const decode = (answer: Answer) => JSON.parse(output(answer)['Payload']['$text']) as Record<string, Json>;
    const byName = decode(
      await sdk('dev', 'lambda', 'Invoke', { FunctionName: 'ends-echo-dev', Payload: { $text: '{"note":"by name"}' } }),
    );
    expect(byName).toMatchObject({ env: 'dev', function: 'ends-echo-dev', event: { note: 'by name' } });
    expect(
      decode(
        await sdk('prod', 'lambda', 'Invoke', { FunctionName: '$STAGECRAFT_FUNCTION_ECHO', Payload: { $text: '{}' } }),
      ),
    ).toMatchObject({ env: 'prod' });
    const arn = await sdk('dev', 'lambda', 'Invoke', {
      FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:ends-echo-dev',
      Qualifier: 'live',
      LogType: 'Tail',
      Payload: { $text: '{"note":"tailed"}' },
    });
    expect(output(arn)['StatusCode']).toBe(200);
    expect(Buffer.from(output(arn)['LogResult'], 'base64').toString('utf8')).toContain('echo in dev: tailed');
    expect(
      decode(
        await sdk('dev', 'lambda', 'Invoke', {
          FunctionName: 'ends-echo-dev',
          Qualifier: '1',
          Payload: { $text: '{"note":"v1"}' },
        }),
      ),
    ).toMatchObject({ env: 'dev', event: { note: 'v1' } });
    expect(await sdk('dev', 'lambda', 'Invoke', { FunctionName: 'ends-echo-dev', Qualifier: '99' })).toMatchObject({
      ok: false,
      name: 'ResourceNotFoundException',
    });
    const failed = output(
      await sdk('dev', 'lambda', 'Invoke', {
        FunctionName: 'ends-echo-dev:smoke',
        Payload: { $text: '{"fail":true}' },
      }),
    );
    expect(failed['FunctionError']).toBe('Unhandled');
    expect(JSON.parse(failed['Payload']['$text'])).toMatchObject({
      errorType: 'Error',
      errorMessage: 'asked to fail in dev',
    });
  });

  it('Lambda Invoke: Event runs later (durably queued), DryRun checks, errors as AWS answers them', async () => {
    const urls = await variables('dev', ['STAGECRAFT_QUEUE_AUDIT_URL']);
    const event = output(
      await sdk('dev', 'lambda', 'Invoke', {
        FunctionName: 'ends-echo-dev',
        InvocationType: 'Event',
        Payload: { $text: JSON.stringify({ note: 'async', sendTo: urls['STAGECRAFT_QUEUE_AUDIT_URL'] }) },
      }),
    );
    expect(event['StatusCode']).toBe(202);
    const [sent] = await receiveAll('dev', '$STAGECRAFT_QUEUE_AUDIT_URL', 1);
    expect(JSON.parse(sent?.['Body'])).toMatchObject({ note: 'async' });
    expect(
      output(await sdk('dev', 'lambda', 'Invoke', { FunctionName: 'ends-echo-dev', InvocationType: 'DryRun' }))[
        'StatusCode'
      ],
    ).toBe(204);
    expect(await sdk('dev', 'lambda', 'Invoke', { FunctionName: 'ends-nope-dev' })).toMatchObject({
      ok: false,
      name: 'ResourceNotFoundException',
      status: 404,
    });
    expect(await sdk('dev', 'lambda', 'Invoke', { FunctionName: 'ends-echo-prod' })).toMatchObject({
      ok: false,
      name: 'AccessDeniedException',
      status: 403,
    });
    expect(
      await sdk('dev', 'lambda', 'Invoke', { FunctionName: 'ends-echo-dev', Payload: { $text: 'not json' } }),
    ).toMatchObject({ ok: false, name: 'InvalidRequestContentException', status: 400 });
    expect(
      await sdk('dev', 'lambda', 'Invoke', {
        FunctionName: 'ends-echo-dev',
        InvocationType: 'Event',
        Payload: { $text: JSON.stringify({ pad: 'x'.repeat(262_144) }) },
      }),
    ).toMatchObject({ ok: false, name: 'RequestTooLargeException', status: 413 });
  });
});
