/**
 * Names and ARNs on AWS: stacks, CloudFormation logical ids, and the ARNs of the physical
 * resources an environment's functions are bound to. Physical names follow DESIGN §1 and
 * `resourceName` (`<app>-<resource>-<env>`), so that a name seen in the AWS console says which
 * app and environment it belongs to.
 */
import { sha256Hex } from '../../digest.js';
import { resourceName, type Manifest } from '../../manifest/index.js';

type Naming = Pick<Manifest, 'app' | 'strategy'>;

/** Multi-stack: one stack `<app>-<env>` per environment; single-stack: one stack `<app>`. */
export function stackName(manifest: Naming, env: string): string {
  return manifest.strategy === 'multi-stack' ? `${manifest.app}-${env}` : manifest.app;
}

/** The environments one stack holds. */
export function stackEnvironments(manifest: Pick<Manifest, 'strategy' | 'environments'>, env: string): string[] {
  return manifest.strategy === 'multi-stack' ? [env] : manifest.environments.map((environment) => environment.name);
}

/** `orders-dlq` → `OrdersDlq`: CloudFormation logical ids are alphanumeric. */
export function pascal(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
}

/**
 * Logical ids from names: `Queue` + `OrdersDlq` (+ the environment in single-stack). Two names
 * that differ only in punctuation (`a-b`, `a--b`) would meet, so every id after the first gets a
 * short digest of the full name.
 */
export class LogicalIds {
  private readonly taken = new Map<string, string>();

  id(kind: string, ...parts: string[]): string {
    const full = [kind, ...parts].join('/');
    const base = `${kind}${parts.map(pascal).join('')}`;
    const owner = this.taken.get(base);
    if (owner === undefined || owner === full) {
      this.taken.set(base, full);
      return base;
    }
    const unique = `${base}${sha256Hex(full).slice(0, 6)}`;
    this.taken.set(unique, full);
    return unique;
  }
}

export interface Place {
  region: string;
  account: string;
}

export function functionArn(place: Place, instance: string, qualifier?: string): string {
  return `arn:aws:lambda:${place.region}:${place.account}:function:${instance}${qualifier === undefined ? '' : `:${qualifier}`}`;
}

export function queueArn(place: Place, manifest: Naming, queue: string, env: string): string {
  return `arn:aws:sqs:${place.region}:${place.account}:${resourceName(manifest, queue, env)}`;
}

export function topicArn(place: Place, manifest: Naming, topic: string, env: string): string {
  return `arn:aws:sns:${place.region}:${place.account}:${resourceName(manifest, topic, env)}`;
}

/** The URL SQS gives a queue (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html). */
export function queueUrl(place: Place, manifest: Naming, queue: string, env: string): string {
  return `https://sqs.${place.region}.amazonaws.com/${place.account}/${resourceName(manifest, queue, env)}`;
}

/** EventBridge rule names hold at most 64 characters; a longer one is cut and given a digest. */
export function scheduleRuleName(manifest: Naming, fn: string, index: number, env: string): string {
  const full = `${manifest.app}-${fn}-${env}-schedule-${index}`;
  return full.length <= 64 ? full : `${full.slice(0, 57)}-${sha256Hex(full).slice(0, 6)}`;
}

export function scheduleRuleArn(place: Place, manifest: Naming, fn: string, index: number, env: string): string {
  return `arn:aws:events:${place.region}:${place.account}:rule/${scheduleRuleName(manifest, fn, index, env)}`;
}
