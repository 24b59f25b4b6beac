/**
 * `send` and `logs` on the aws provider, against a real moto_server through the real CLI: a
 * message reaches the SQS queue of the environment named (and no other), and a function's log
 * lines are read from its CloudWatch Logs group.
 *
 * moto's Lambda without Docker writes no logs, so the test writes them itself, as Lambda would:
 * one stream per execution environment named `YYYY/MM/DD/[<version>]<id>`, with START, the
 * function's output, END and REPORT lines.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  type InputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, copyApp, runCli } from './helpers/cli.js';
import { startMotoSession, type Moto, type MotoSession } from './helpers/moto.js';
import { gone } from './helpers/processes.js';

interface LogsJson {
  ok: boolean;
  instance: string;
  logGroup: string;
  lines: string[];
  entries: { time: string; version: string; requestId: string; line: string }[];
}

const GROUP = '/aws/lambda/full-api-dev';
const [A, B, C] = [
  '0a1b2c3d-0000-4000-8000-00000000000a',
  '0a1b2c3d-0000-4000-8000-00000000000b',
  '0a1b2c3d-0000-4000-8000-00000000000c',
];

describe('aws provider on moto: send and logs', () => {
  const app = copyApp('aws-full');
  // staging is declared but never deployed: its queues do not exist on AWS.
  app.write(
    'stagecraft.yml',
    app.read('stagecraft.yml').replace('  - name: prod', '  - name: prod\n  - name: staging'),
  );
  let moto: Moto;
  let session: MotoSession | undefined;
  let sqs: SQSClient;
  let logs: CloudWatchLogsClient;
  const cli = (args: string[]) => runCli([...args, '--dir', app.dir], { env: moto.env });
  const queueUrl = async (name: string) => (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  const receive = async (name: string) =>
    (
      await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: await queueUrl(name),
          MaxNumberOfMessages: 10,
          MessageAttributeNames: ['All'],
          WaitTimeSeconds: 0,
        }),
      )
    ).Messages ?? [];
  const counts = async (name: string) => {
    const attributes =
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: await queueUrl(name), AttributeNames: ['All'] })))
        .Attributes ?? {};
    return {
      visible: Number(attributes['ApproximateNumberOfMessages']),
      inFlight: Number(attributes['ApproximateNumberOfMessagesNotVisible']),
      delayed: Number(attributes['ApproximateNumberOfMessagesDelayed']),
    };
  };
  /** One execution environment's stream of `GROUP`, as Lambda names it, with these events. */
  let streams = 0;
  const putStream = async (version: string, events: InputLogEvent[]) => {
    const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
    const logStreamName = `${day}/[${version}]${(++streams).toString(16).padStart(32, 'f')}`;
    await logs.send(new CreateLogStreamCommand({ logGroupName: GROUP, logStreamName }));
    await logs.send(new PutLogEventsCommand({ logGroupName: GROUP, logStreamName, logEvents: events }));
  };
  /** One request's lines, as Lambda's Node runtime writes them, from `at` on, 10 ms apart. */
  const request = (id: string, version: string, at: number, output: string): InputLogEvent[] =>
    [
      `START RequestId: ${id} Version: ${version}\n`,
      output,
      `END RequestId: ${id}\n`,
      `REPORT RequestId: ${id}\tDuration: 1.50 ms\tBilled Duration: 2 ms\n`,
    ].map((message, index) => ({ timestamp: at + index * 10, message }));

  beforeAll(async () => {
    session = await startMotoSession();
    ({ moto } = session);
    sqs = new SQSClient({});
    logs = new CloudWatchLogsClient({});
    for (const args of [['build'], ['deploy', 'dev'], ['deploy', 'prod']]) {
      const result = await cli([...args, '--json']);
      expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
    }
    // Request A ran three hours ago (beyond the first window the tail reads), B and C a minute
    // ago in two environments at once, so their lines interleave by time across streams.
    const now = Date.now();
    await logs.send(new CreateLogGroupCommand({ logGroupName: GROUP }));
    await putStream('1', [
      ...request(A, '1', now - 3 * 3_600_000, `2025-01-01T00:00:00.000Z\t${A}\tINFO\thello from one\n`),
      ...request(C, '1', now - 60_000 + 5, 'a print without an id\n'),
    ]);
    await putStream('2', request(B, '2', now - 60_000, `2025-01-01T00:00:00.000Z\t${B}\tINFO\thello from two\n`));
  }, 180_000);
  afterAll(async () => {
    sqs?.destroy();
    logs?.destroy();
    await session?.stop();
    app.remove();
  });

  it('send puts the message, with its attributes, on the SQS queue of the environment named', async () => {
    const result = await cli([
      'send',
      'audit',
      '--env',
      'dev',
      '--data',
      'hello sqs',
      '--attribute',
      'source=cli',
      '--attribute',
      'priority:Number=2',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const sent = result.json<{
      ok: boolean;
      messageId: string;
      queue: string;
      physicalQueue: string;
      environment: string;
    }>();
    expect(sent).toEqual({
      ok: true,
      messageId: expect.any(String),
      queue: 'audit',
      physicalQueue: 'full-audit-dev',
      environment: 'dev',
    });
    const [message, ...others] = await receive('full-audit-dev');
    expect(others).toEqual([]);
    expect(message).toMatchObject({
      MessageId: sent.messageId,
      Body: 'hello sqs',
      MessageAttributes: {
        source: { DataType: 'String', StringValue: 'cli' },
        priority: { DataType: 'Number', StringValue: '2' },
      },
    });
    expect(await receive('full-audit-prod')).toEqual([]);
    await sqs.send(new PurgeQueueCommand({ QueueUrl: await queueUrl('full-audit-dev') }));
  });

  it('send passes --delay as DelaySeconds, and prints the message id for people', async () => {
    const result = await cli(['send', 'audit', '--env', 'prod', '--data', 'later', '--delay', '120']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
    expect(await counts('full-audit-prod')).toEqual({ visible: 0, inFlight: 0, delayed: 1 });
    await sqs.send(new PurgeQueueCommand({ QueueUrl: await queueUrl('full-audit-prod') }));
  });

  it('send refuses an unknown or undeployed queue and a bad delay or attribute with exit 2, sending nothing', async () => {
    const unknown = await cli(['send', 'payments', '--env', 'dev', '--data', 'x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no queue "payments" in full[\s\S]*hint: queues: jobs, jobs-dlq, audit/);
    const undeployed = await cli(['send', 'audit', '--env', 'staging', '--data', 'x', '--json']);
    expect(undeployed.code).toBe(2);
    expect(undeployed.json<{ error: { code: string; message: string; hint: string } }>().error).toMatchObject({
      code: 'QUEUE_NOT_FOUND',
      message: expect.stringContaining('full-audit-staging'),
      hint: expect.stringContaining('stagecraft deploy'),
    });
    for (const args of [
      ['--delay', '901'],
      ['--delay', '1.5'],
      ['--attribute', 'n:Number=x'],
      ['--attribute', 'AWS.trace=1'],
    ]) {
      const refused = await cli(['send', 'audit', '--env', 'dev', '--data', 'x', ...args]);
      expect(refused.code, args.join(' ')).toBe(2);
      expect(refused.stderr, args.join(' ')).toMatch(/error/i);
    }
    expect(await counts('full-audit-dev')).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('logs reads the log group: every stream in time order, versions from stream names, request ids from the lines', async () => {
    const result = await cli(['logs', 'api', '--env', 'dev', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const doc = result.json<LogsJson>();
    expect(doc).toMatchObject({ ok: true, instance: 'full-api-dev', logGroup: GROUP });
    expect(doc.entries.map((entry) => [entry.version, entry.requestId, entry.line])).toEqual([
      ['1', A, `START RequestId: ${A} Version: 1`],
      ['1', A, `2025-01-01T00:00:00.000Z\t${A}\tINFO\thello from one`],
      ['1', A, `END RequestId: ${A}`],
      ['1', A, `REPORT RequestId: ${A}\tDuration: 1.50 ms\tBilled Duration: 2 ms`],
      ['2', B, `START RequestId: ${B} Version: 2`],
      ['1', C, `START RequestId: ${C} Version: 1`],
      ['2', B, `2025-01-01T00:00:00.000Z\t${B}\tINFO\thello from two`],
      ['1', C, 'a print without an id'],
      ['2', B, `END RequestId: ${B}`],
      ['1', C, `END RequestId: ${C}`],
      ['2', B, `REPORT RequestId: ${B}\tDuration: 1.50 ms\tBilled Duration: 2 ms`],
      ['1', C, `REPORT RequestId: ${C}\tDuration: 1.50 ms\tBilled Duration: 2 ms`],
    ]);
    expect(doc.lines).toEqual(doc.entries.map((entry) => entry.line));
    const times = doc.entries.map((entry) => Date.parse(entry.time));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('logs --limit N gives the newest N, and text output is `<time> [<version>] <line>`', async () => {
    const limited = (await cli(['logs', 'api', '--env', 'dev', '--limit', '3', '--json'])).json<LogsJson>();
    expect(limited.entries.map((entry) => [entry.version, entry.requestId, entry.line.split('\t')[0]])).toEqual([
      ['1', C, `END RequestId: ${C}`],
      ['2', B, `REPORT RequestId: ${B}`],
      ['1', C, `REPORT RequestId: ${C}`],
    ]);
    const text = await cli(['logs', 'api', '--env', 'dev', '--limit', '2']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(
        `^\\d{4}-\\d{2}-\\d{2}T[\\d:.]+Z \\[2\\] REPORT RequestId: ${B}\\t.*\\n\\d{4}-\\d{2}-\\d{2}T[\\d:.]+Z \\[1\\] REPORT RequestId: ${C}\\t.*\\n$`,
      ),
    );
  });

  it('logs of a function that never logged (no log group) says "no logs yet"', async () => {
    const json = await cli(['logs', 'worker', '--env', 'dev', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(json.json<LogsJson>()).toMatchObject({
      ok: true,
      instance: 'full-worker-dev',
      logGroup: '/aws/lambda/full-worker-dev',
      lines: [],
      entries: [],
    });
    const text = await cli(['logs', 'worker', '--env', 'dev']);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe('');
    expect(text.stderr).toContain('no logs yet for full-worker-dev (/aws/lambda/full-worker-dev)');
  });

  it('logs --follow prints an event put after it started, once, until it is stopped', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'logs', 'api', '--env', 'dev', '--follow', '--limit', '1', '--dir', app.dir],
      {
        env: { ...process.env, ...moto.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const pid = child.pid as number;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const printed = async (text: string) => {
      const deadline = Date.now() + 20_000;
      while (!stdout.includes(text)) {
        if (Date.now() > deadline)
          throw new Error(`--follow did not print "${text}":\n${stdout}\n--- stderr ---\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    try {
      await printed(`REPORT RequestId: ${C}`);
      await putStream('3', [{ timestamp: Date.now(), message: 'a line written while following\n' }]);
      await printed('[3] a line written while following');
      // Polling again and again prints nothing twice.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(stdout.split('\n').filter((line) => line.includes(`REPORT RequestId: ${C}`))).toHaveLength(1);
      expect(stdout.split('\n').filter((line) => line.includes('a line written while following'))).toHaveLength(1);
    } finally {
      process.kill(pid, 'SIGTERM');
    }
    expect(await gone(pid, 10_000)).toBe(true);
    expect(await exited).toBe(0);
  }, 60_000);
});
