/**
 * The local endpoints driven by clients no one here wrote (the aws CLI v1, raw query-protocol
 * requests), and SendMessage durable before its answer: `kill -9` of `up` right after it loses nothing.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';
import { startUp, type RunningUp } from './helpers/up.js';

const run = promisify(execFile);

/** What the SDK answered, as JSON the probe handler passed on: read field by field, checked by the assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
describe('up: local endpoints for the aws CLI, the query protocol, and kill -9', () => {
  const app = copyApp('endpoints', { insideRepo: true });
  let up: RunningUp;
  let endpoints: Record<string, string> = {};
  const readEndpoints = () => {
    const file = JSON.parse(readFileSync(join(app.dir, '.stagecraft', 'up.json'), 'utf8')) as {
      endpoints: { name: string; url: string }[];
    };
    return Object.fromEntries(file.endpoints.map((entry) => [entry.name, entry.url]));
  };
  beforeAll(async () => {
    for (const args of [['build'], ['deploy', 'dev'], ['deploy', 'prod']]) {
      const result = await runCli([...args, '--dir', app.dir]);
      expect(result.code, result.stderr).toBe(0);
    }
    up = await startUp(app.dir, { ports: 3 });
    endpoints = readEndpoints();
  }, 180_000);
  afterAll(async () => {
    if (up) await up.stop();
    app.remove();
  });

  const aws = async (env: string, args: string[]) => {
    const { stdout } = await run('aws', ['--endpoint-url', endpoints[env] as string, '--output', 'json', ...args], {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'cli',
        AWS_SECRET_ACCESS_KEY: 'cli',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_CONFIG_FILE: '/dev/null',
      },
      cwd: app.dir,
    });
    return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, Json>);
  };

  it('aws sqs get-queue-url, send-message, receive-message, delete-message and get-queue-attributes', async () => {
    const { QueueUrl: url } = await aws('dev', ['sqs', 'get-queue-url', '--queue-name', 'ends-jobs-dev']);
    expect(url).toBe(`${endpoints['dev']}/000000000000/ends-jobs-dev`);
    const sent = await aws('dev', [
      'sqs',
      'send-message',
      '--queue-url',
      url,
      '--message-body',
      'from the cli',
      '--message-attributes',
      '{"source":{"DataType":"String","StringValue":"cli"}}',
    ]);
    expect(sent['MessageId']).toMatch(/^[0-9a-f-]{36}$/);
    const received = await aws('dev', [
      'sqs',
      'receive-message',
      '--queue-url',
      url,
      '--wait-time-seconds',
      '5',
      '--message-attribute-names',
      'All',
    ]);
    expect(received['Messages']).toMatchObject([
      { Body: 'from the cli', MessageId: sent['MessageId'], MessageAttributes: { source: { StringValue: 'cli' } } },
    ]);
    await aws('dev', [
      'sqs',
      'delete-message',
      '--queue-url',
      url,
      '--receipt-handle',
      received['Messages'][0]['ReceiptHandle'],
    ]);
    const attributes = await aws('dev', [
      'sqs',
      'get-queue-attributes',
      '--queue-url',
      url,
      '--attribute-names',
      'All',
    ]);
    expect(attributes['Attributes']).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
    await expect(aws('dev', ['sqs', 'get-queue-url', '--queue-name', 'ends-nothing-dev'])).rejects.toThrow(
      /QueueDoesNotExist|NonExistentQueue/,
    );
  });

  it('aws lambda invoke: a payload and a function error', async () => {
    const out = join(app.dir, 'out.json');
    const ok = await aws('prod', [
      'lambda',
      'invoke',
      '--function-name',
      'ends-echo-prod',
      '--payload',
      '{"note":"cli"}',
      '--log-type',
      'Tail',
      out,
    ]);
    expect(ok['StatusCode']).toBe(200);
    expect(Buffer.from(ok['LogResult'], 'base64').toString('utf8')).toContain('echo in prod: cli');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ env: 'prod', event: { note: 'cli' } });
    const failed = await aws('prod', [
      'lambda',
      'invoke',
      '--function-name',
      'ends-echo-prod:live',
      '--payload',
      '{"fail":true}',
      out,
    ]);
    expect(failed['FunctionError']).toBe('Unhandled');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ errorMessage: 'asked to fail in prod' });
    await expect(aws('prod', ['lambda', 'invoke', '--function-name', 'ends-nope-prod', out])).rejects.toThrow(
      /ResourceNotFoundException/,
    );
  });

  it('the query protocol (form in, XML out) sends and receives on the same queues', async () => {
    const query = async (params: Record<string, string>) => {
      const response = await fetch(endpoints['dev'] as string, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(params),
      });
      return { status: response.status, text: await response.text() };
    };
    const url = `${endpoints['dev']}/000000000000/ends-jobs-dlq-dev`;
    const sent = await query({
      Action: 'SendMessage',
      QueueUrl: url,
      MessageBody: 'a <query> & body',
      'MessageAttribute.1.Name': 'n',
      'MessageAttribute.1.Value.DataType': 'Number',
      'MessageAttribute.1.Value.StringValue': '7',
    });
    expect(sent.status).toBe(200);
    expect(sent.text).toMatch(
      /<SendMessageResponse[^>]*><SendMessageResult><MessageId>[0-9a-f-]{36}<\/MessageId><MD5OfMessageBody>[0-9a-f]{32}<\/MD5OfMessageBody>/,
    );
    const received = await query({
      Action: 'ReceiveMessage',
      QueueUrl: url,
      'MessageAttributeName.1': 'All',
      WaitTimeSeconds: '5',
    });
    expect(received.text).toContain('<Body>a &lt;query&gt; &amp; body</Body>');
    expect(received.text).toContain(
      '<MessageAttribute><Name>n</Name><Value><StringValue>7</StringValue><DataType>Number</DataType></Value></MessageAttribute>',
    );
    const missing = await query({ Action: 'GetQueueUrl', QueueName: 'ends-nothing-dev' });
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('<Code>AWS.SimpleQueueService.NonExistentQueue</Code>');
  });

  it('a message SendMessage answered for survives kill -9 of up and is delivered after the restart', async () => {
    const response = await fetch(`${up.urls['dev']}/probe`, {
      method: 'POST',
      body: JSON.stringify({
        service: 'sqs',
        command: 'SendMessage',
        input: { QueueUrl: '$STAGECRAFT_QUEUE_AUDIT_URL', MessageBody: 'survivor' },
      }),
    });
    const sent = (await response.json()) as { ok: boolean; output: { MessageId: string } };
    expect(sent.ok).toBe(true);
    await up.stop('SIGKILL');
    up = await startUp(app.dir, { ports: 3 });
    endpoints = readEndpoints();
    const received = await aws('dev', [
      'sqs',
      'receive-message',
      '--queue-url',
      `${endpoints['dev']}/000000000000/ends-audit-dev`,
      '--wait-time-seconds',
      '5',
    ]);
    expect(received['Messages']).toMatchObject([{ MessageId: sent.output.MessageId, Body: 'survivor' }]);
  }, 60_000);
});
