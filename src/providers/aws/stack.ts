/**
 * Applying a template to its CloudFormation stack, and `plan`: the change set it would make.
 *
 * The stack carries the digest of the template it was last given as the tag
 * `stagecraft:template`; when the digest of the template to apply is the same and the stack
 * still holds that template (someone may have updated it by hand), nothing is sent to
 * CloudFormation beyond one DescribeStacks and one GetTemplate. A code-only release therefore
 * never updates a stack.
 */
import {
  CreateChangeSetCommand,
  CreateStackCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  UpdateStackCommand,
  type Change,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import { digestOf, sha256Hex } from '../../digest.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { StagecraftError } from '../../errors.js';
import { isStackMissing, providerError } from '../../aws-errors.js';
import type { AwsClients } from './clients.js';
import { templateDigest, type CfnTemplate } from './template.js';

export const TEMPLATE_TAG = 'stagecraft:template';
/** CloudFormation takes a TemplateBody of at most 51,200 bytes (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html). */
const MAX_TEMPLATE_BODY = 51_200;

export interface StackState {
  name: string;
  status: string;
  outputs: Record<string, string>;
  /** The digest of the template the stack was last given by Stagecraft. */
  digest: string | undefined;
}

export interface StackChange {
  action: string;
  logicalId: string;
  type: string;
  replacement?: string;
}
export interface StackPlan {
  stack: string;
  exists: boolean;
  changed: boolean;
  digest: string;
  deployedDigest: string | undefined;
  changes: StackChange[];
}

export interface StackDeployerOptions {
  clients: AwsClients;
  progress?: (message: string) => void;
  /** Pause between two status polls; grows to 5 s. Tests against an emulator keep it short. */
  pollMs?: number;
  /** How long a stack operation may take before Stagecraft stops waiting. */
  timeoutMs?: number;
}

export class StackDeployer {
  constructor(private readonly options: StackDeployerOptions) {}

  async describe(name: string): Promise<StackState | undefined> {
    let stack: Stack | undefined;
    try {
      stack = (await this.options.clients.cloudformation.send(new DescribeStacksCommand({ StackName: name })))
        .Stacks?.[0];
    } catch (error) {
      if (isStackMissing(error)) return undefined;
      throw providerError(error, `cannot read stack ${name}`);
    }
    if (!stack || stack.StackStatus === 'DELETE_COMPLETE') return undefined;
    return {
      name,
      status: stack.StackStatus ?? 'UNKNOWN',
      outputs: Object.fromEntries(
        (stack.Outputs ?? []).flatMap((output) =>
          output.OutputKey && output.OutputValue !== undefined ? [[output.OutputKey, output.OutputValue]] : [],
        ),
      ),
      digest: stack.Tags?.find((tag) => tag.Key === TEMPLATE_TAG)?.Value,
    };
  }

  /** Creates or updates the stack when its template changed; returns its state and what was done. */
  async ensure(
    name: string,
    template: CfnTemplate,
  ): Promise<{ state: StackState; action: 'created' | 'updated' | 'unchanged' }> {
    const digest = templateDigest(template);
    let state = await this.describe(name);
    if (state?.status.endsWith('_IN_PROGRESS') && state.status !== 'REVIEW_IN_PROGRESS')
      state = await this.wait(name, 'another operation on the stack');
    if (state && (state.status === 'REVIEW_IN_PROGRESS' || state.status === 'ROLLBACK_COMPLETE')) {
      // Neither can be updated: a stack only ever planned, or one whose creation failed and was rolled back.
      this.options.progress?.(`  stack ${name} is ${state.status}; deleting it to create it afresh`);
      await this.call(`cannot delete stack ${name}`, (cf) => cf.send(new DeleteStackCommand({ StackName: name })));
      await this.wait(name, 'the deletion');
      state = undefined;
    }
    if (state && state.digest === digest && isUsable(state.status)) {
      // The tag says what Stagecraft applied, but a stack updated from the console or the CLI
      // keeps its tags: only the template it holds tells whether someone changed it since. The
      // manifest is the truth, so a deploy puts Stagecraft's template back.
      if ((await this.heldDigest(name)) === digest) return { state, action: 'unchanged' };
      this.options.progress?.(`  stack ${name} was changed outside Stagecraft; applying its template again`);
    }
    const body = JSON.stringify(template);
    if (Buffer.byteLength(body) > MAX_TEMPLATE_BODY) {
      throw new StagecraftError(
        'PROVIDER_FAILED',
        `the template of stack ${name} is ${Buffer.byteLength(body)} bytes, over CloudFormation's ${MAX_TEMPLATE_BODY}-byte limit`,
        {
          hint: 'split the app, or use strategy: multi-stack so that each environment has its own, smaller stack',
        },
      );
    }
    const common = {
      StackName: name,
      TemplateBody: body,
      Capabilities: ['CAPABILITY_IAM' as const],
      Tags: [{ Key: TEMPLATE_TAG, Value: digest }],
    };
    if (!state) {
      this.options.progress?.(`  creating stack ${name}`);
      await this.call(`cannot create stack ${name}`, (cf) =>
        cf.send(new CreateStackCommand({ ...common, OnFailure: 'ROLLBACK' })),
      );
    } else {
      if (state.digest !== digest) this.options.progress?.(`  updating stack ${name} (its infrastructure changed)`);
      try {
        await this.options.clients.cloudformation.send(new UpdateStackCommand(common));
      } catch (error) {
        if (!/No updates are to be performed/.test((error as Error).message))
          throw providerError(error, `cannot update stack ${name}`);
      }
    }
    const done = await this.wait(name, state ? 'the update' : 'the creation');
    if (!isSettled(done.status)) throw await this.failure(name, done.status);
    return { state: done, action: state ? 'updated' : 'created' };
  }

  /** The digest of the template CloudFormation holds, as `templateDigest` names it (text that is not JSON: its bytes' digest). */
  async heldDigest(name: string): Promise<string> {
    const held = await this.call(`cannot read the template of stack ${name}`, (cf) =>
      cf.send(new GetTemplateCommand({ StackName: name, TemplateStage: 'Original' })),
    );
    const body = held.TemplateBody ?? '';
    try {
      return digestOf(JSON.parse(body));
    } catch {
      return sha256Hex(body);
    }
  }

  /** The change set applying `template` would make; created, read and deleted, never executed. */
  async plan(name: string, template: CfnTemplate): Promise<StackPlan> {
    const digest = templateDigest(template);
    const state = await this.describe(name);
    const exists = state !== undefined && state.status !== 'REVIEW_IN_PROGRESS' && state.status !== 'ROLLBACK_COMPLETE';
    const changeSet = `stagecraft-plan-${Date.now()}`;
    const { cloudformation } = this.options.clients;
    await this.call(`cannot create a change set for stack ${name}`, (cf) =>
      cf.send(
        new CreateChangeSetCommand({
          StackName: name,
          ChangeSetName: changeSet,
          ChangeSetType: exists ? 'UPDATE' : 'CREATE',
          TemplateBody: JSON.stringify(template),
          Capabilities: ['CAPABILITY_IAM'],
          Tags: [{ Key: TEMPLATE_TAG, Value: digest }],
        }),
      ),
    );
    try {
      const changes: Change[] = [];
      let next: string | undefined;
      const started = Date.now();
      for (let delay = this.options.pollMs ?? 1000; ;) {
        const described = await cloudformation
          .send(new DescribeChangeSetCommand({ StackName: name, ChangeSetName: changeSet, NextToken: next }))
          .catch((error: unknown) => {
            throw providerError(error, `cannot read the change set of stack ${name}`);
          });
        if (described.Status === 'FAILED') {
          // "The submitted information didn't contain changes" is CloudFormation's way of saying "nothing to do".
          if (/didn't contain changes|No updates/i.test(described.StatusReason ?? '')) break;
          throw new StagecraftError(
            'PROVIDER_FAILED',
            `CloudFormation could not plan stack ${name}: ${described.StatusReason ?? 'no reason given'}`,
          );
        }
        if (described.Status === 'CREATE_COMPLETE') {
          changes.push(...(described.Changes ?? []));
          next = described.NextToken;
          if (!next) break;
          continue;
        }
        if (Date.now() - started > (this.options.timeoutMs ?? 30 * 60_000))
          throw new StagecraftError('PROVIDER_FAILED', `the change set of stack ${name} did not complete in time`);
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
      }
      return {
        stack: name,
        exists,
        changed: !exists || state?.digest !== digest,
        digest,
        deployedDigest: exists ? state?.digest : undefined,
        changes: changes.flatMap((change) =>
          change.ResourceChange
            ? [
                {
                  action: change.ResourceChange.Action ?? 'Unknown',
                  logicalId: change.ResourceChange.LogicalResourceId ?? '',
                  type: change.ResourceChange.ResourceType ?? '',
                  ...(change.ResourceChange.Replacement ? { replacement: change.ResourceChange.Replacement } : {}),
                },
              ]
            : [],
        ),
      };
    } finally {
      // A plan leaves nothing behind: not the change set, nor the empty stack a CREATE change set makes.
      await cloudformation
        .send(new DeleteChangeSetCommand({ StackName: name, ChangeSetName: changeSet }))
        .catch(() => undefined);
      if (!exists) await cloudformation.send(new DeleteStackCommand({ StackName: name })).catch(() => undefined);
    }
  }

  /** Deletes the stack and waits until it is gone; a missing stack is a no-op. Returns whether one was deleted. */
  async delete(name: string): Promise<boolean> {
    if (!(await this.describe(name))) return false;
    await this.call(`cannot delete stack ${name}`, (cloudformation) =>
      cloudformation.send(new DeleteStackCommand({ StackName: name })),
    );
    const state = await this.wait(name, 'its deletion');
    if (state.status !== 'DELETE_COMPLETE') throw await this.failure(name, state.status);
    return true;
  }

  private async call<T>(doing: string, run: (cloudformation: AwsClients['cloudformation']) => Promise<T>): Promise<T> {
    try {
      return await run(this.options.clients.cloudformation);
    } catch (error) {
      throw providerError(error, doing);
    }
  }

  /** Polls until the stack leaves `*_IN_PROGRESS`; a deleted stack reads as DELETE_COMPLETE. */
  private async wait(name: string, what: string): Promise<StackState> {
    const started = Date.now();
    for (let delay = this.options.pollMs ?? 1000; ;) {
      const state = await this.describe(name);
      if (!state) return { name, status: 'DELETE_COMPLETE', outputs: {}, digest: undefined };
      if (!state.status.endsWith('_IN_PROGRESS')) return state;
      if (Date.now() - started > (this.options.timeoutMs ?? 30 * 60_000)) {
        throw new StagecraftError(
          'PROVIDER_FAILED',
          `stack ${name} is still ${state.status} after waiting for ${what}`,
          { hint: 'look at the stack in the CloudFormation console, then run the command again' },
        );
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 5000);
    }
  }

  private async failure(name: string, status: string): Promise<StagecraftError> {
    const events = await this.options.clients.cloudformation
      .send(new DescribeStackEventsCommand({ StackName: name }))
      .catch(() => undefined);
    const reasons = (events?.StackEvents ?? [])
      .filter((event) => /FAILED/.test(event.ResourceStatus ?? '') && event.ResourceStatusReason)
      .slice(0, 5)
      .map((event) => `${event.LogicalResourceId}: ${event.ResourceStatusReason}`);
    return new StagecraftError('PROVIDER_FAILED', `stack ${name} ended in ${status}`, {
      details: reasons,
      hint: 'fix the cause named above (often a name already taken, or a missing permission) and deploy again; `stagecraft plan <env>` shows the change first',
    });
  }
}

/** A stack whose last update failed and rolled back still runs its previous template. */
export function isUsable(status: string): boolean {
  return isSettled(status) || status === 'UPDATE_ROLLBACK_COMPLETE';
}

function isSettled(status: string): boolean {
  return status === 'CREATE_COMPLETE' || status === 'UPDATE_COMPLETE' || status === 'IMPORT_COMPLETE';
}
