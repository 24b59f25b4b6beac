/**
 * single-stack on the aws provider (moto_server): one stack `<app>` for every environment, one
 * function per name shared by the environments, told apart by the aliases `<env>` and
 * `<env>-smoke`, each environment's queue mapped to its own live alias.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  ListAliasesCommand,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';
import { MOTO_ACCOUNT, startMotoSession, type Moto, type MotoSession } from './helpers/moto.js';

describe('aws provider on moto: single-stack', () => {
  const app = copyApp('aws-full');
  app.write(
    'stagecraft.yml',
    app.read('stagecraft.yml').replace('provider: aws', 'provider: aws\nstrategy: single-stack'),
  );
  let moto: Moto;
  let session: MotoSession | undefined;
  let lambda: LambdaClient;
  let sha: Record<string, string>;

  beforeAll(async () => {
    session = await startMotoSession();
    ({ moto, lambda } = session);
    const run = async (...args: string[]) => {
      const result = await runCli([...args, '--json', '--dir', app.dir], { env: moto.env });
      expect(result.code, result.stderr).toBe(0);
      return result;
    };
    const built = (await run('build')).json<{ functions: { function: string; sha256: string }[] }>();
    sha = Object.fromEntries(built.functions.map((fn) => [fn.function, fn.sha256]));
    await run('deploy', 'dev');
    await run('deploy', 'prod');
  }, 120_000);
  afterAll(async () => {
    await session?.stop();
    app.remove();
  });

  it('applies one stack for both environments', async () => {
    const cloudformation = new CloudFormationClient({});
    try {
      expect(
        (await cloudformation.send(new DescribeStacksCommand({ StackName: 'full' }))).Stacks?.[0]?.StackStatus,
      ).toBe('CREATE_COMPLETE');
      await expect(cloudformation.send(new DescribeStacksCommand({ StackName: 'full-dev' }))).rejects.toThrow(
        /does not exist/,
      );
    } finally {
      cloudformation.destroy();
    }
  });

  it('gives each environment its own aliases and versions of one function, all on the same artifact', async () => {
    const aliases = await lambda.send(new ListAliasesCommand({ FunctionName: 'full-api' }));
    expect(aliases.Aliases?.map((alias) => alias.Name).sort()).toEqual(['dev', 'dev-smoke', 'prod', 'prod-smoke']);
    for (const env of ['dev', 'prod']) {
      const alias = await lambda.send(new GetAliasCommand({ FunctionName: 'full-api', Name: env }));
      const version = await lambda.send(
        new GetFunctionConfigurationCommand({ FunctionName: 'full-api', Qualifier: alias.FunctionVersion }),
      );
      expect(version.Environment?.Variables?.['STAGECRAFT_ENV']).toBe(env);
      expect(version.Environment?.Variables?.['STAGECRAFT_QUEUE_JOBS']).toBe(`full-jobs-${env}`);
      expect(Buffer.from(version.CodeSha256 ?? '', 'base64').toString('hex')).toBe(sha['api']);
    }
  });

  it("maps each environment's queue to that environment's live alias only", async () => {
    for (const env of ['dev', 'prod']) {
      const mappings = await lambda.send(
        new ListEventSourceMappingsCommand({
          FunctionName: `arn:aws:lambda:us-east-1:${MOTO_ACCOUNT}:function:full-worker:${env}`,
        }),
      );
      expect(mappings.EventSourceMappings?.map((mapping) => mapping.EventSourceArn)).toEqual([
        `arn:aws:sqs:us-east-1:${MOTO_ACCOUNT}:full-jobs-${env}`,
      ]);
      const smoke = await lambda.send(
        new ListEventSourceMappingsCommand({
          FunctionName: `arn:aws:lambda:us-east-1:${MOTO_ACCOUNT}:function:full-worker:${env}-smoke`,
        }),
      );
      expect(smoke.EventSourceMappings ?? []).toEqual([]);
    }
  });
});
