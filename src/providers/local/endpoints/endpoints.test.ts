/**
 * The endpoint's protocol code on a real state database, without `up`: the query protocol's
 * parameters and XML, single-stack aliases telling environments apart, the signing key refused
 * across environments, and AWS's error shapes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseManifest, type Manifest } from '../../../manifest/index.js';
import type { InvokeOutcome } from '../../../runtime/index.js';
import { StateStore } from '../../../state/index.js';
import { EnvironmentEvents } from '../events/index.js';
import { EnvironmentEndpoint } from './environment-endpoint.js';

const MANIFEST = `app: ends
strategy: single-stack
environments: [{ name: dev }, { name: prod }]
functions:
  echo: { handler: src/echo.handler }
resources:
  queues: { jobs: {} }
  topics: { notify: { subscribers: [queue:jobs] } }
`;

describe('local endpoint: protocols, single-stack, signing', () => {
  let dir: string;
  let store: StateStore;
  let manifest: Manifest;
  let endpoint: EnvironmentEndpoint;
  const invoked: { fn: string; role: string | number; payload: string }[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-endpoint-'));
    store = StateStore.open(join(dir, 'state.db'));
    manifest = (await parseManifest(MANIFEST, { file: 'stagecraft.yml' })).manifest;
    const events = new EnvironmentEvents({
      manifest,
      env: 'dev',
      store,
      account: '000000000000',
      invoke: async () => ({ ok: true }) as never,
    });
    endpoint = new EnvironmentEndpoint({
      manifest,
      env: 'dev',
      region: 'us-east-1',
      account: '000000000000',
      queues: store.queues,
      events: () => events,
      invoke: async (fn, role, payload) => {
        invoked.push({ fn, role, payload });
        return {
          ok: true,
          payload: '{"done":true}',
          requestId: 'r-1',
          durationMs: 1,
          billedMs: 1,
          maxMemoryMb: 1,
          logs: ['START', 'hello', 'END'],
        } satisfies InvokeOutcome;
      },
      isDeployed: () => true,
    });
    await endpoint.start();
  });
  afterEach(async () => {
    await endpoint.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
    invoked.length = 0;
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${endpoint.url}${path}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
  const signed = (key: string, service: string) => ({
    authorization: `AWS4-HMAC-SHA256 Credential=${key}/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=x`,
  });

  it('reads batch entries and their attributes from query parameters, and answers in XML', async () => {
    const url = endpoint.queueUrl('jobs');
    const response = await post(
      '/',
      new URLSearchParams({
        Action: 'SendMessageBatch',
        QueueUrl: url,
        'SendMessageBatchRequestEntry.1.Id': 'a',
        'SendMessageBatchRequestEntry.1.MessageBody': 'one',
        'SendMessageBatchRequestEntry.1.MessageAttribute.1.Name': 'k',
        'SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType': 'String',
        'SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue': 'v',
        'SendMessageBatchRequestEntry.2.Id': 'b',
        'SendMessageBatchRequestEntry.2.MessageBody': 'two',
        'SendMessageBatchRequestEntry.2.DelaySeconds': '999',
      }).toString(),
    );
    const xml = await response.text();
    expect(response.status).toBe(200);
    expect(xml).toMatch(
      /<SendMessageBatchResultEntry><Id>a<\/Id><MessageId>[0-9a-f-]{36}<\/MessageId><MD5OfMessageBody>f97c5d29941bfb1b2fdab0874906ab82<\/MD5OfMessageBody><MD5OfMessageAttributes>[0-9a-f]{32}<\/MD5OfMessageAttributes><\/SendMessageBatchResultEntry>/,
    );
    expect(xml).toContain(
      '<BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault><Code>InvalidParameterValue</Code>',
    );
    expect(store.queues.list('ends-jobs-dev').map((message) => [message.body, message.attributes])).toEqual([
      ['one', { k: { DataType: 'String', StringValue: 'v' } }],
    ]);
  });

  it('takes the queue URL from the path when the query has none', async () => {
    const response = await post('/000000000000/ends-jobs-dev', 'Action=SendMessage&MessageBody=by%20path');
    expect(response.status).toBe(200);
    expect(store.queues.list('ends-jobs-dev').map((message) => message.body)).toEqual(['by path']);
  });

  it("single-stack: resolves this environment's aliases and version numbers, refuses another environment's alias, runs live when unqualified", async () => {
    const invoke = (name: string) =>
      post(`/2015-03-31/functions/${encodeURIComponent(name)}/invocations`, '{}', {
        'content-type': 'application/json',
        'x-amz-log-type': 'Tail',
      });
    const live = await invoke('ends-echo');
    expect(live.status).toBe(200);
    expect(Buffer.from(live.headers.get('x-amz-log-result') ?? '', 'base64').toString()).toBe('START\nhello\nEND\n');
    expect((await invoke('ends-echo:dev-smoke')).status).toBe(200);
    expect(invoked.map(({ role }) => role)).toEqual(['live', 'smoke']);
    const refused = await invoke('arn:aws:lambda:us-east-1:000000000000:function:ends-echo:prod');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');
    expect((await invoke('ends-echo:7')).status).toBe(200);
    expect(invoked.map(({ role }) => role)).toEqual(['live', 'smoke', 7]);
    const missing = await invoke('ends-echo:beta');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      Type: 'User',
      message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:ends-echo:beta',
    });
    expect(invoked).toHaveLength(3);
  });

  it("refuses requests signed by another environment's handlers, in each service's error shape", async () => {
    const sqs = await post('/', JSON.stringify({ QueueUrl: endpoint.queueUrl('jobs'), MessageBody: 'x' }), {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'AmazonSQS.SendMessage',
      ...signed('stagecraft-local-prod', 'sqs'),
    });
    expect(sqs.status).toBe(403);
    expect(sqs.headers.get('x-amzn-query-error')).toBe('AccessDenied;Sender');
    const sns = await post(
      '/',
      new URLSearchParams({ Action: 'Publish', TopicArn: endpoint.topicArn('notify'), Message: 'x' }).toString(),
      signed('stagecraft-local-prod', 'sns'),
    );
    expect(sns.status).toBe(403);
    expect(await sns.text()).toContain('<Code>AuthorizationError</Code>');
    const own = await post(
      '/',
      new URLSearchParams({ Action: 'Publish', TopicArn: endpoint.topicArn('notify'), Message: 'x' }).toString(),
      signed('stagecraft-local-dev', 'sns'),
    );
    expect(own.status).toBe(200);
    expect(await own.text()).toMatch(
      /<PublishResponse xmlns="http:\/\/sns.amazonaws.com\/doc\/2010-03-31\/"><PublishResult><MessageId>[0-9a-f-]{36}<\/MessageId>/,
    );
    expect(store.queues.list('ends-jobs-dev')).toHaveLength(1);
  });

  it('answers unknown operations and queues as SQS does, in both protocols', async () => {
    const json = await post('/', JSON.stringify({ QueueUrl: `${endpoint.url}/000000000000/ends-nope-dev` }), {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'AmazonSQS.PurgeQueue',
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toEqual({
      __type: 'com.amazonaws.sqs#QueueDoesNotExist',
      message: 'The specified queue does not exist.',
    });
    expect(json.headers.get('x-amzn-query-error')).toBe('AWS.SimpleQueueService.NonExistentQueue;Sender');
    const unknown = await post('/', 'Action=CreateQueue&QueueName=x');
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('<Code>AWS.SimpleQueueService.UnsupportedOperation</Code>');
  });
});
