/**
 * The backends of one environment's endpoint, wired to what the runtime already has: the state
 * database's queues, the environment's topics and asynchronous invokers, and its aliases. A request
 * naming another environment's queue, topic or function is refused, one it does not know is not found.
 */
import {
  aliasName,
  instanceName,
  locatorVariables,
  resourceName,
  type AliasRole,
  type Manifest,
} from '../../../manifest/index.js';
import type { InvokeOptions, InvokeOutcome } from '../../../runtime/index.js';
import type { QueueRepo } from '../../../state/index.js';
import { functionArn, queueArn, topicArn, type EnvironmentEvents, type Where } from '../events/index.js';
import { LOCAL_CREDENTIALS, LOCAL_KEY_PREFIX, localAccessKey } from '../tables.js';
import { fault } from './fault.js';
import { notFound, type LambdaBackend, type LambdaTarget } from './lambda.js';
import { listen, type EndpointServer } from './server.js';
import type { SnsBackend } from './sns.js';
import type { SqsBackend, SqsQueue } from './sqs-operations.js';

export interface EnvironmentEndpointOptions extends Where {
  manifest: Manifest;
  env: string;
  queues: QueueRepo;
  /** The environment's event sources; undefined until `up` has started them. */
  events: () => EnvironmentEvents | undefined;
  /** Invokes an alias of this environment, or a version number of the function here. */
  invoke: (fn: string, target: AliasRole | number, payload: string, options: InvokeOptions) => Promise<InvokeOutcome>;
  isDeployed: (fn: string, target: AliasRole | number) => boolean;
  now?: () => number;
}

/** SQS's default retention, 4 days, when the manifest sets none. */
const DEFAULT_RETENTION_SEC = 345_600;
const DEFAULT_MAX_RECEIVE_COUNT = 10;

export class EnvironmentEndpoint {
  private server: EndpointServer | undefined;
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor(private readonly options: EnvironmentEndpointOptions) {}

  get url(): string {
    if (!this.server) throw new Error('the endpoint is not listening yet');
    return this.server.url;
  }

  async start(): Promise<string> {
    this.server = await listen({
      sqs: this.sqs(),
      sns: this.sns(),
      lambda: this.lambda(),
      authorize: (header, service) => this.authorize(header, service),
    });
    return this.server.url;
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.wake();
    await this.server?.close();
  }

  /**
   * What a handler of this environment gets to reach it: the SDK's service endpoints, its own
   * access key, and the resource locators, all on this endpoint.
   */
  variables(): Record<string, string> {
    const { manifest, env } = this.options;
    return {
      AWS_ENDPOINT_URL_SQS: this.url,
      AWS_ENDPOINT_URL_SNS: this.url,
      AWS_ENDPOINT_URL_LAMBDA: this.url,
      ...LOCAL_CREDENTIALS,
      AWS_ACCESS_KEY_ID: localAccessKey(env),
      ...locatorVariables(manifest, {
        queueUrl: (queue) => this.queueUrl(queue),
        topicArn: (topic) => this.topicArn(topic),
        functionName: (fn) => `${instanceName(manifest, fn, env)}:${aliasName(manifest, env, 'live')}`,
      }),
    };
  }

  /** The URL of a queue of this environment, by its manifest name. */
  queueUrl(queue: string): string {
    return `${this.url}/${this.options.account}/${resourceName(this.options.manifest, queue, this.options.env)}`;
  }

  topicArn(topic: string): string {
    return topicArn(this.options, resourceName(this.options.manifest, topic, this.options.env));
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter();
    this.waiters.clear();
  }

  private events(): EnvironmentEvents {
    const events = this.options.events();
    if (!events) throw fault(503, 'ServiceUnavailable', 'the local event sources are still starting; try again');
    return events;
  }

  /** Which environment other than this one holds a resource of this physical name. */
  private otherEnvironment(kind: 'queues' | 'topics', physical: string): string | undefined {
    const { manifest, env } = this.options;
    return manifest.environments
      .map((environment) => environment.name)
      .find(
        (other) =>
          other !== env &&
          Object.keys(manifest.resources[kind]).some((name) => resourceName(manifest, name, other) === physical),
      );
  }

  private sqs(): SqsBackend {
    const { manifest, env } = this.options;
    const byName = (name: string): SqsQueue => {
      const logical = Object.keys(manifest.resources.queues).find(
        (queue) => resourceName(manifest, queue, env) === name,
      );
      if (logical === undefined) {
        const other = this.otherEnvironment('queues', name);
        if (other !== undefined) {
          throw fault(
            403,
            'AccessDenied',
            `Access to the resource ${name} is denied: it is a queue of ${other}, and this endpoint serves ${env}.`,
            'AccessDenied',
          );
        }
        throw fault(
          400,
          'QueueDoesNotExist',
          'The specified queue does not exist.',
          'AWS.SimpleQueueService.NonExistentQueue',
        );
      }
      const def = manifest.resources.queues[logical] ?? { visibilityTimeout: 30 };
      const deadLetter = def.deadLetter === undefined ? undefined : resourceName(manifest, def.deadLetter, env);
      return {
        physical: name,
        url: this.queueUrl(logical),
        arn: queueArn(this.options, name),
        visibilityTimeoutSec: def.visibilityTimeout,
        retentionSec: def.retention === undefined ? DEFAULT_RETENTION_SEC : Math.round(def.retention / 1_000),
        ...(deadLetter === undefined
          ? {}
          : {
              redrive: {
                maxReceiveCount: def.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT,
                deadLetterQueue: deadLetter,
                deadLetterArn: queueArn(this.options, deadLetter),
              },
            }),
      };
    };
    return {
      queues: this.options.queues,
      byName,
      // Any URL form (this endpoint's, or AWS's `https://sqs.<region>.amazonaws.com/<account>/<name>`):
      // the name is its last segment.
      byUrl: (url) => byName(url.replace(/\/+$/, '').split('/').pop() ?? ''),
      sent: (queue) => {
        this.options.events()?.wakeQueue(queue.physical);
        this.wake();
      },
      wait: (ms) =>
        new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            this.waiters.delete(done);
            resolve();
          };
          const timer = setTimeout(done, ms);
          this.waiters.add(done);
        }),
      stopped: () => this.closed,
      now: this.options.now ?? Date.now,
    };
  }

  private sns(): SnsBackend {
    const { manifest, env } = this.options;
    return {
      topicByArn: (arn) => {
        const name = arn.split(':').pop() ?? '';
        const logical = Object.keys(manifest.resources.topics).find(
          (topic) => resourceName(manifest, topic, env) === name,
        );
        if (logical !== undefined && arn === this.topicArn(logical)) return logical;
        const other = this.otherEnvironment('topics', name);
        if (other !== undefined) {
          throw fault(403, 'AuthorizationError', `${arn} is a topic of ${other}, and this endpoint serves ${env}.`);
        }
        throw fault(404, 'NotFound', 'Topic does not exist');
      },
      publish: (topic, message, options) => this.events().publish(topic, message, options),
    };
  }

  private denied(name: string, owner: string): Error {
    return fault(
      403,
      'AccessDeniedException',
      `User is not authorized to perform: lambda:InvokeFunction on resource: ${name}` +
        ` because it belongs to ${owner}, and this endpoint serves ${this.options.env}`,
    );
  }

  /**
   * Handlers of each environment sign with their own access key (`localAccessKey`): a request
   * signed by another environment's handler is refused even when it reaches this endpoint by a
   * resource URL of this environment. Other keys (the aws CLI, a script) act as this environment.
   */
  authorize(authorization: string | undefined, service: 'sqs' | 'sns' | 'lambda'): void {
    const key = /Credential=([^/,\s]+)\//.exec(authorization ?? '')?.[1];
    if (key === undefined || !key.startsWith(LOCAL_KEY_PREFIX) || key === localAccessKey(this.options.env)) return;
    const signer = key.slice(LOCAL_KEY_PREFIX.length);
    const message = `the request is signed by ${signer}'s handlers, and this endpoint serves ${this.options.env}`;
    if (service === 'sqs')
      throw fault(403, 'AccessDenied', `Access to the resource is denied: ${message}.`, 'AccessDenied');
    if (service === 'sns')
      throw fault(403, 'AuthorizationError', `User is not authorized to perform this action: ${message}`);
    throw fault(403, 'AccessDeniedException', `User is not authorized to perform: lambda:InvokeFunction: ${message}`);
  }

  private lambda(): LambdaBackend {
    const { manifest, env } = this.options;
    const live = aliasName(manifest, env, 'live');
    const smoke = aliasName(manifest, env, 'smoke');
    return {
      resolve: (name, qualifierParam) => {
        // `name`, `name:qualifier`, `<account>:function:name[:qualifier]` or the full ARN.
        const parts = name.split(':');
        const at = parts.indexOf('function');
        const [instance = '', inlineQualifier] = at === -1 ? parts : parts.slice(at + 1);
        const arnPrefix = at === -1 ? undefined : parts.slice(0, at);
        if (
          arnPrefix &&
          arnPrefix.length >= 6 &&
          (arnPrefix[3] !== this.options.region || arnPrefix[4] !== this.options.account)
        )
          throw notFound(name);
        const qualifier = inlineQualifier ?? qualifierParam;
        const arn = functionArn(this.options, instance, qualifier);
        const others = manifest.environments.map((environment) => environment.name).filter((other) => other !== env);
        const fn = Object.keys(manifest.functions).find(
          (candidate) => instanceName(manifest, candidate, env) === instance,
        );
        const owner =
          fn === undefined
            ? others.find((other) =>
                Object.keys(manifest.functions).some(
                  (candidate) => instanceName(manifest, candidate, other) === instance,
                ),
              )
            : undefined;
        if (owner !== undefined) throw this.denied(name, owner);
        if (fn === undefined) throw notFound(arn);
        let role: AliasRole | number;
        if (qualifier === undefined || qualifier === '$LATEST' || qualifier === live) role = 'live';
        else if (qualifier === smoke) role = 'smoke';
        else if (/^[1-9]\d*$/.test(qualifier)) role = Number(qualifier);
        else {
          // Single-stack: one function, an alias per environment; another environment's alias is refused.
          const aliasOwner = others.find(
            (other) =>
              qualifier === aliasName(manifest, other, 'live') || qualifier === aliasName(manifest, other, 'smoke'),
          );
          throw aliasOwner === undefined ? notFound(arn) : this.denied(name, aliasOwner);
        }
        return { fn, role, arn };
      },
      invoke: (target: LambdaTarget, payload, clientContext) =>
        this.options.invoke(target.fn, target.role, payload, {
          invokedArn: target.arn,
          ...(clientContext ? { clientContext } : {}),
        }),
      invokeAsync: (target, payload) => {
        if (!this.options.isDeployed(target.fn, target.role)) throw notFound(target.arn);
        if (target.role === 'live') return this.events().invokeAsync(target.fn, payload);
        // Only `live` has an asynchronous queue: another alias or a version runs once, unawaited, not retried.
        const requestId = crypto.randomUUID();
        void this.options
          .invoke(target.fn, target.role, payload, { invokedArn: target.arn, requestId })
          .catch(() => undefined);
        return requestId;
      },
      deployed: (target) => this.options.isDeployed(target.fn, target.role),
    };
  }
}
