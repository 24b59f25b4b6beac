/**
 * A real `moto_server` (preinstalled) on a free loopback port, for the aws provider's tests:
 * started here, switched to Lambda without Docker (invocations echo their event, or return the
 * responses queued with `queueLambdaResponses`), and stopped by its PID.
 *
 * Every AWS SDK and CLI call of a test reaches it through `AWS_ENDPOINT_URL` in `env`, with
 * throwaway credentials; nothing leaves the machine.
 */
import { CloudWatchClient, PutMetricAlarmCommand, type Dimension } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { spawn, type ChildProcess } from 'node:child_process';
import { freePortBlock } from './up.js';

/** moto's fixed account id. */
export const MOTO_ACCOUNT = '123456789012';
export const MOTO_REGION = 'us-east-1';

export interface Moto {
  endpoint: string;
  pid: number;
  /** The environment a process needs to talk to this moto: endpoint, credentials, region. */
  env: Record<string, string>;
  /** The next Invoke calls (of any function) return these payloads, in order. */
  queueLambdaResponses(results: string[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<Moto> {
  const port = await freePortBlock(1);
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.pid === undefined) throw new Error('moto_server did not start (is it installed?)');
  const pid = child.pid;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(pid, 'SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`moto_server exited: ${stderr}`);
      const ready = await fetch(`${endpoint}/moto-api/config`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`moto_server did not answer on ${endpoint}: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Lambda without Docker: Invoke echoes the event, or returns what was queued
    // (https://docs.getmoto.org/en/latest/docs/services/lambda.html).
    const configured = await fetch(`${endpoint}/moto-api/config`, {
      method: 'POST',
      body: JSON.stringify({ lambda: { use_docker: false } }),
    });
    if (!configured.ok) throw new Error(`moto_server refused its config: ${configured.status}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    endpoint,
    pid,
    stop,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_SESSION_TOKEN: 'testing',
      AWS_REGION: MOTO_REGION,
      AWS_DEFAULT_REGION: MOTO_REGION,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    },
    async queueLambdaResponses(results) {
      const response = await fetch(`${endpoint}/moto-api/static/lambda-simple/response`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ results, account_id: MOTO_ACCOUNT, region: MOTO_REGION }),
      });
      if (!response.ok) throw new Error(`moto_server refused the queued responses: ${response.status}`);
    },
  };
}

/** Sets `env` on this process (for SDK clients made in the test) and returns how to restore it. */
export function useEnv(env: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}

/** moto, this process's environment pointed at it, and a Lambda client: what an aws test file sets up first. */
export interface MotoSession {
  moto: Moto;
  lambda: LambdaClient;
  /** Destroys the client, restores the environment and stops moto. */
  stop(): Promise<void>;
}

export async function startMotoSession(): Promise<MotoSession> {
  const moto = await startMoto();
  const restoreEnv = useEnv(moto.env);
  const lambda = new LambdaClient({});
  return {
    moto,
    lambda,
    stop: async () => {
      lambda.destroy();
      restoreEnv();
      await moto.stop();
    },
  };
}

/**
 * examples/shop for moto, whose Lambda runs no code and answers every invocation with the next queued
 * response: its order smoke tests (202 queued, 400 rejected) are left out, so each environment runs three
 * that a healthy answer passes (health over HTTP, health-direct by invoke, the Python report over HTTP).
 */
export function shopSmokeForMoto(app: { read(file: string): string; write(file: string, text: string): void }): void {
  const manifest = app.read('stagecraft.yml');
  const trimmed = manifest.replace(
    / {2}- name: order-queued\n(?: {4}.*\n)+ {2}- name: order-rejected\n(?: {4}.*\n)+/,
    '',
  );
  if (trimmed === manifest) throw new Error('examples/shop no longer has the order smoke tests this helper removes');
  app.write('stagecraft.yml', trimmed);
}

/** An alarm of a team's own (1 error or more in a minute), as a manifest names one by name or ARN. */
export async function putErrorsAlarm(name: string, dimensions: Dimension[]): Promise<void> {
  const cloudwatch = new CloudWatchClient({});
  try {
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: name,
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Dimensions: dimensions,
      }),
    );
  } finally {
    cloudwatch.destroy();
  }
}
