/**
 * Bringing a function's `$LATEST` to the code and configuration of the version about to be
 * published: CreateFunction the first time, then UpdateFunctionCode / UpdateFunctionConfiguration
 * only for what differs, waiting out Lambda's asynchronous updates in between
 * (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html): publishing while an update
 * is in progress fails with ResourceConflictException.
 */
import {
  CreateFunctionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type FunctionConfiguration,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { setTimeout as sleep } from 'node:timers/promises';
import { StagecraftError } from '../../errors.js';
import type { NewVersion } from '../../state/index.js';
import type { ArtifactLocation } from './artifact-bucket.js';
import { errorName, providerError } from '../../aws-errors.js';
import type { AwsClients } from './clients.js';
import { codeShaToHex, hexToCodeSha } from './metadata.js';
import { readFunction } from './read-function.js';

export interface InstallResult {
  /** `$LATEST` after the changes, as Lambda reports it. */
  latest: FunctionConfiguration;
  /** Whether anything was created or changed (when not, PublishVersion returns the newest version). */
  changed: boolean;
  created: boolean;
}

export interface FunctionCodeOptions {
  clients: AwsClients;
  pollMs?: number;
  /** How long a freshly created role may take to become usable by Lambda (IAM is eventually consistent). */
  roleRetryMs?: number;
}

export class FunctionCode {
  constructor(private readonly options: FunctionCodeOptions) {}

  /**
   * `variables`: the version's environment as Lambda must hold it (secrets opened); `read`: `$LATEST`
   * as this process read it a moment ago, if it did (else it is read here).
   */
  async install(
    spec: NewVersion,
    code: ArtifactLocation,
    role: string,
    variables: Record<string, string>,
    read?: FunctionConfiguration,
  ): Promise<InstallResult> {
    const { lambda } = this.options.clients;
    const desired = {
      Runtime: spec.runtime as Runtime,
      Handler: spec.handler,
      MemorySize: spec.memoryMb,
      Timeout: spec.timeoutSec,
      Role: role,
      Environment: { Variables: variables },
    };
    let current = read ?? (await readFunction(this.options.clients, spec.instance));
    if (!current) {
      const created = await this.withRoleRetry(() =>
        lambda.send(
          new CreateFunctionCommand({
            FunctionName: spec.instance,
            ...desired,
            PackageType: 'Zip',
            Publish: false,
            Code: { S3Bucket: code.bucket, S3Key: code.key },
            Description: `Stagecraft function ${spec.function} (${spec.environment})`,
          }),
        ),
      ).catch((error: unknown) => {
        throw providerError(error, `cannot create function ${spec.instance}`);
      });
      this.checkCode(spec, created, code);
      return { latest: await this.settle(spec.instance, created), changed: true, created: true };
    }
    current = await this.settle(spec.instance, current);
    let changed = false;
    if (current.CodeSha256 !== hexToCodeSha(spec.sha256)) {
      const updated = await lambda
        .send(new UpdateFunctionCodeCommand({ FunctionName: spec.instance, S3Bucket: code.bucket, S3Key: code.key }))
        .catch((error: unknown) => {
          throw providerError(error, `cannot update the code of ${spec.instance}`);
        });
      this.checkCode(spec, updated, code);
      current = await this.settle(spec.instance, updated);
      changed = true;
    }
    if (!sameConfiguration(current, desired)) {
      const updated = await this.withRoleRetry(() =>
        lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: spec.instance, ...desired })),
      ).catch((error: unknown) => {
        throw providerError(error, `cannot update the configuration of ${spec.instance}`);
      });
      current = await this.settle(spec.instance, updated);
      changed = true;
    }
    return { latest: current, changed, created: false };
  }

  /** Lambda hashes the bytes it took from S3: anything but the artifact's own digest is refused. */
  private checkCode(spec: NewVersion, config: FunctionConfiguration, code: ArtifactLocation): void {
    if (config.CodeSha256 !== hexToCodeSha(spec.sha256)) {
      throw new StagecraftError(
        'ARTIFACT_CORRUPT',
        `Lambda installed code with sha256 ${config.CodeSha256 ? codeShaToHex(config.CodeSha256) : 'unknown'} for ${spec.instance}, but the release's artifact is ${spec.sha256}`,
        {
          hint: `s3://${code.bucket}/${code.key} does not hold the bytes its name promises; delete that object and deploy again to upload the artifact afresh`,
        },
      );
    }
  }

  /** Waits while the function is Pending or an update is InProgress; Failed is an error. */
  private async settle(instance: string, config: FunctionConfiguration): Promise<FunctionConfiguration> {
    let current = config;
    for (
      let delay = this.options.pollMs ?? 500;
      current.State === 'Pending' || current.LastUpdateStatus === 'InProgress';
      delay = Math.min(delay * 2, 5000)
    ) {
      await sleep(delay);
      const read = await readFunction(this.options.clients, instance);
      if (!read)
        throw new StagecraftError('PROVIDER_FAILED', `function ${instance} disappeared while it was being updated`, {
          hint: 'something else deletes it; deploy again',
        });
      current = read;
    }
    if (current.State === 'Failed' || current.LastUpdateStatus === 'Failed') {
      throw new StagecraftError(
        'PROVIDER_FAILED',
        `function ${instance} failed to update: ${current.StateReason ?? current.LastUpdateStatusReason ?? 'no reason given'}`,
      );
    }
    return current;
  }

  /**
   * A role created moments ago by the stack may not be assumable by Lambda yet
   * (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
   */
  private async withRoleRetry<T>(call: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + (this.options.roleRetryMs ?? 60_000);
    for (let delay = 1000; ; delay = Math.min(delay * 2, 8000)) {
      try {
        return await call();
      } catch (error) {
        const roleNotReady =
          errorName(error) === 'InvalidParameterValueException' &&
          /role.*cannot be assumed|role defined for the function/i.test((error as Error).message);
        if (!roleNotReady || Date.now() + delay > deadline) throw error;
        await sleep(delay);
      }
    }
  }
}

function sameConfiguration(
  current: FunctionConfiguration,
  desired: {
    Runtime: string;
    Handler: string;
    MemorySize: number;
    Timeout: number;
    Role: string;
    Environment: { Variables: Record<string, string> };
  },
): boolean {
  const variables = current.Environment?.Variables ?? {};
  const keys = new Set([...Object.keys(variables), ...Object.keys(desired.Environment.Variables)]);
  return (
    current.Runtime === desired.Runtime &&
    current.Handler === desired.Handler &&
    current.MemorySize === desired.MemorySize &&
    current.Timeout === desired.Timeout &&
    current.Role === desired.Role &&
    [...keys].every((key) => variables[key] === desired.Environment.Variables[key])
  );
}
