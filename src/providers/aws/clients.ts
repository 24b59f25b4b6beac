/**
 * The AWS SDK v3 clients the `aws` provider talks through, made in one place so that every one
 * gets the same region, the same endpoint rule and the same call hook.
 *
 * Credentials come from the SDK's standard chain (environment, shared files, SSO, container or
 * instance roles); the SDK itself honours `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html), which is how an
 * emulator such as moto_server stands in for AWS.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { providerError } from '../../aws-errors.js';
import { CallBudget, isBudgeted } from './call-budget.js';

/** One AWS API call, as `onCall` sees it: `Lambda` / `PublishVersion`. */
export interface AwsCall {
  service: string;
  operation: string;
}

export interface AwsClientOptions {
  /** The region; undefined lets the SDK's chain decide (AWS_REGION, the profile …). */
  region?: string | undefined;
  /** The region when neither `region` nor the SDK's chain names one. */
  defaultRegion?: string;
  /** Told of every API call before it is sent (each retry counts once): for call counts and tracing. */
  onCall?: (call: AwsCall) => void;
  /**
   * The token bucket of Lambda's shared 15 calls/s. One AwsClients talks to one account and region,
   * and the CLI makes one per process; pass the same budget to clients that share both.
   */
  budget?: CallBudget;
}

/** The middleware stack every SDK v3 client has; typed loosely because each client's types differ. */
interface WithMiddleware {
  middlewareStack: {
    add(middleware: unknown, options: { step: 'initialize' | 'finalizeRequest'; name: string; priority?: 'low' }): void;
  };
}
type Middleware = (
  next: (args: unknown) => Promise<unknown>,
  context: { commandName?: string },
) => (args: unknown) => Promise<unknown>;

export class AwsClients {
  readonly lambda: LambdaClient;
  readonly s3: S3Client;
  readonly cloudformation: CloudFormationClient;
  readonly dynamodb: DynamoDBClient;
  readonly sts: STSClient;
  private readonly common: { region: string | (() => Promise<string>) };
  private readonly onCall: ((call: AwsCall) => void) | undefined;
  /** Every client made so far, the lazy ones included, for `destroy`. */
  private readonly made: { destroy(): void }[] = [];
  private sqsClient: Promise<SQSClient> | undefined;
  private logsClient: Promise<CloudWatchLogsClient> | undefined;
  private cloudwatchClient: Promise<CloudWatchClient> | undefined;
  private accountPromise: Promise<string> | undefined;

  constructor(options: AwsClientOptions = {}) {
    // The SDK warns on every run under Node 20 about its own future support window; that notice
    // is about the SDK, not about the command being run, so it stays out of Stagecraft's stderr.
    process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
    this.common = { region: options.region ?? chainRegion(options.defaultRegion ?? 'us-east-1') };
    this.onCall = options.onCall;
    // Adaptive retry backs off on throttling with a client-side rate of its own
    // (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html): the budget below
    // keeps this process under 15/s, adaptive retry absorbs what other processes of the account spend.
    this.lambda = this.watch('Lambda', new LambdaClient({ ...this.common, retryMode: 'adaptive', maxAttempts: 8 }));
    const budget = options.budget ?? new CallBudget();
    const throttle: Middleware = (next, context) => async (args) => {
      if (isBudgeted(operationOf(context))) await budget.take();
      return next(args);
    };
    // finalizeRequest, low priority: inside the retry middleware, so every attempt takes a token.
    (this.lambda as unknown as WithMiddleware).middlewareStack.add(throttle, {
      step: 'finalizeRequest',
      priority: 'low',
      name: 'stagecraftLambdaBudget',
    });
    // Path-style addressing works with every S3 endpoint, emulators included; virtual-hosted
    // style needs DNS for `<bucket>.<endpoint>`, which a local endpoint does not have.
    this.s3 = this.watch(
      'S3',
      new S3Client({
        ...this.common,
        forcePathStyle:
          process.env['AWS_ENDPOINT_URL'] !== undefined || process.env['AWS_ENDPOINT_URL_S3'] !== undefined,
      }),
    );
    this.cloudformation = this.watch('CloudFormation', new CloudFormationClient(this.common));
    this.dynamodb = this.watch('DynamoDB', new DynamoDBClient(this.common));
    this.sts = this.watch('STS', new STSClient(this.common));
  }

  /**
   * SQS, made on first use. Only `send` talks to SQS and only `logs` to CloudWatch Logs, so their
   * SDK packages are loaded by those commands alone, not by every deploy.
   */
  sqs(): Promise<SQSClient> {
    this.sqsClient ??= import('@aws-sdk/client-sqs').then(({ SQSClient }) =>
      this.watch('SQS', new SQSClient(this.common)),
    );
    return this.sqsClient;
  }

  /** CloudWatch Logs, made on first use (see `sqs`). */
  logs(): Promise<CloudWatchLogsClient> {
    this.logsClient ??= import('@aws-sdk/client-cloudwatch-logs').then(({ CloudWatchLogsClient }) =>
      this.watch('CloudWatchLogs', new CloudWatchLogsClient(this.common)),
    );
    return this.logsClient;
  }

  /** CloudWatch (alarms and metrics of a traffic shift), made on first use (see `sqs`). */
  cloudwatch(): Promise<CloudWatchClient> {
    this.cloudwatchClient ??= import('@aws-sdk/client-cloudwatch').then(({ CloudWatchClient }) =>
      this.watch('CloudWatch', new CloudWatchClient(this.common)),
    );
    return this.cloudwatchClient;
  }

  /** The region the clients talk to, as the SDK resolved it. */
  async region(): Promise<string> {
    return this.lambda.config.region();
  }

  /** The account the credentials belong to (one STS call per process), for ARNs and the artifact bucket's name. */
  account(): Promise<string> {
    this.accountPromise ??= this.sts.send(new GetCallerIdentityCommand({})).then(
      (identity) => {
        if (!identity.Account) throw new Error('STS GetCallerIdentity returned no account');
        return identity.Account;
      },
      (cause: unknown) => {
        throw providerError(cause, 'cannot tell which AWS account the credentials belong to (sts:GetCallerIdentity)');
      },
    );
    return this.accountPromise;
  }

  destroy(): void {
    for (const client of this.made) client.destroy();
  }

  /** Registers a client for `destroy` and, with `onCall`, tells of each of its calls. */
  private watch<T extends { destroy(): void }>(service: string, client: T): T {
    this.made.push(client);
    const onCall = this.onCall;
    if (onCall) {
      const hook: Middleware = (next, context) => async (args) => {
        onCall({ service, operation: operationOf(context) });
        return next(args);
      };
      (client as unknown as WithMiddleware).middlewareStack.add(hook, {
        step: 'initialize',
        name: 'stagecraftCallHook',
      });
    }
    return client;
  }
}

function operationOf(context: { commandName?: string }): string {
  return (context.commandName ?? 'unknown').replace(/Command$/, '');
}

/**
 * The region of the SDK's own chain (AWS_REGION, the shared config's profile …), else `fallback`.
 * A client made without a region resolves the chain lazily and throws when it finds none.
 */
function chainRegion(fallback: string): () => Promise<string> {
  let resolved: Promise<string> | undefined;
  return () => {
    resolved ??= (async () => {
      const probe = new STSClient({});
      try {
        return await probe.config.region();
      } catch {
        return fallback;
      } finally {
        probe.destroy();
      }
    })();
    return resolved;
  };
}
