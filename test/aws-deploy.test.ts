/**
 * `provider: aws` end to end against a real moto_server: examples/shop built once and deployed
 * to three environment stacks by the real CLI; what AWS then holds is read back with the SDK —
 * stacks, queues with redrive, tables, event source mappings on `live`, and `live` on a version
 * whose CodeSha256 is the release's artifact in every environment.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import {
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  ListEventSourceMappingsCommand,
  ListVersionsByFunctionCommand,
} from '@aws-sdk/client-lambda';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';
import { MOTO_ACCOUNT, startMotoSession, type Moto, type MotoSession, shopSmokeForMoto } from './helpers/moto.js';

interface BuildJson {
  release: string;
  functions: { function: string; sha256: string }[];
}
interface DeployJson {
  release: string;
  status: string;
  environments: {
    name: string;
    functions: { function: string; version: number; published: boolean; sha256: string }[];
  }[];
}
const deployedFunctions = (outcome: DeployJson) => outcome.environments[0]?.functions ?? [];
interface LedgerJson {
  entries: { kind: string; environment: string | null; function: string | null; version: number | null }[];
}

const ENVS = ['dev', 'staging', 'prod'] as const;
const BUCKET = `stagecraft-${MOTO_ACCOUNT}-us-east-1`;
const HEALTHY = JSON.stringify({ statusCode: 200, body: JSON.stringify({ status: 'ok' }) });

describe('aws provider on moto: deploy examples/shop', () => {
  const app = copyApp('examples/shop', { insideRepo: true });
  shopSmokeForMoto(app);
  app.write('stagecraft.yml', app.read('stagecraft.yml').replace(/^runtime:/m, 'provider: aws\nruntime:'));
  let moto: Moto;
  let session: MotoSession | undefined;
  let lambda: LambdaClient;
  let build: BuildJson;

  const cli = async (args: string[], expectCode = 0) => {
    const result = await runCli([...args, '--json', '--dir', app.dir], { env: moto.env });
    expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(expectCode);
    return result;
  };
  const shaOf = (release: BuildJson, fn: string) => release.functions.find((entry) => entry.function === fn)?.sha256;
  const liveCode = async (instance: string, alias = 'live') => {
    const pointer = await lambda.send(new GetAliasCommand({ FunctionName: instance, Name: alias }));
    const version = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: instance, Qualifier: pointer.FunctionVersion }),
    );
    return {
      version: Number(pointer.FunctionVersion),
      sha256: Buffer.from(version.CodeSha256 ?? '', 'base64').toString('hex'),
      variables: version.Environment?.Variables ?? {},
      release: (JSON.parse(version.Description ?? '{}') as { r?: string }).r,
    };
  };
  const ledger = async () => (await cli(['history'])).json<LedgerJson>().entries;
  /**
   * moto's Lambda runs no code: each Invoke returns the next queued response. A deploy runs the
   * shop's three smoke tests (health over HTTP, health-direct by invoke, the Python report over
   * HTTP) against smoke: three healthy answers per deploy that reaches its tests.
   */
  const deploy = async (env: string, ...extra: string[]) => {
    await moto.queueLambdaResponses([HEALTHY, HEALTHY, HEALTHY]);
    return cli(['deploy', env, ...extra]);
  };

  beforeAll(async () => {
    session = await startMotoSession();
    ({ moto, lambda } = session);
    build = (await cli(['build'])).json<BuildJson>();
    // prod is behind a manual gate: the tests deploy it directly, on purpose and recorded.
    for (const env of ENVS)
      await deploy(env, ...(env === 'prod' ? ['--force', '--reason', 'every stack of the shop under test'] : []));
  }, 180_000);
  afterAll(async () => {
    await session?.stop();
    app.remove();
  }, 180_000);

  it('creates one stack per environment, with queues, redrive and tables', async () => {
    const cloudformation = new CloudFormationClient({});
    const sqs = new SQSClient({});
    const dynamodb = new DynamoDBClient({});
    try {
      for (const env of ENVS) {
        const stack = (await cloudformation.send(new DescribeStacksCommand({ StackName: `shop-${env}` }))).Stacks?.[0];
        expect(stack?.StackStatus).toBe('CREATE_COMPLETE');
        const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `shop-orders-${env}` }));
        const attributes =
          (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes ?? {};
        expect(attributes['VisibilityTimeout']).toBe('60');
        expect(JSON.parse(attributes['RedrivePolicy'] ?? '{}')).toMatchObject({
          deadLetterTargetArn: `arn:aws:sqs:us-east-1:${MOTO_ACCOUNT}:shop-orders-dlq-${env}`,
          maxReceiveCount: 3,
        });
        const table = await dynamodb.send(new DescribeTableCommand({ TableName: `shop-orders-${env}` }));
        expect(table.Table?.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
      }
    } finally {
      cloudformation.destroy();
      sqs.destroy();
      dynamodb.destroy();
    }
  }, 180_000);

  it('points live and smoke at a version whose CodeSha256 is the release artifact, in every environment', async () => {
    for (const env of ENVS) {
      for (const fn of ['api', 'worker']) {
        for (const alias of ['live', 'smoke']) {
          const code = await liveCode(`shop-${fn}-${env}`, alias);
          expect(code.sha256, `${fn} ${alias} in ${env}`).toBe(shaOf(build, fn));
          expect(code.version).toBe(1);
        }
        const { variables, release } = await liveCode(`shop-${fn}-${env}`);
        // The release is named in the version's description: a Lambda variable would force a
        // configuration update of every function with every release.
        expect(release).toBe(build.release);
        expect(variables).not.toHaveProperty('STAGECRAFT_RELEASE');
        expect(variables).toMatchObject({
          STAGECRAFT_ENV: env,
          LOG_LEVEL: { dev: 'debug', staging: 'info', prod: 'warn' }[env],
          STAGECRAFT_TABLE_ORDERS: `shop-orders-${env}`,
        });
      }
    }
  }, 180_000);

  it('uploads each artifact to S3 once, keyed by sha256, and every environment uses that object', async () => {
    const s3 = new S3Client({ forcePathStyle: true });
    try {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'artifacts/' }));
      expect((listed.Contents ?? []).map((object) => object.Key).sort()).toEqual(
        build.functions.map((fn) => `artifacts/${fn.sha256}.zip`).sort(),
      );
    } finally {
      s3.destroy();
    }
  }, 180_000);

  it('maps the worker queue to the live alias ARN, and never to smoke', async () => {
    for (const env of ENVS) {
      const live = await lambda.send(
        new ListEventSourceMappingsCommand({
          FunctionName: `arn:aws:lambda:us-east-1:${MOTO_ACCOUNT}:function:shop-worker-${env}:live`,
        }),
      );
      expect(live.EventSourceMappings?.map((mapping) => [mapping.EventSourceArn, mapping.BatchSize])).toEqual([
        [`arn:aws:sqs:us-east-1:${MOTO_ACCOUNT}:shop-orders-${env}`, 10],
      ]);
      const smoke = await lambda.send(
        new ListEventSourceMappingsCommand({
          FunctionName: `arn:aws:lambda:us-east-1:${MOTO_ACCOUNT}:function:shop-worker-${env}:smoke`,
        }),
      );
      expect(smoke.EventSourceMappings ?? []).toEqual([]);
    }
  }, 180_000);

  it('status reads live and smoke back from Lambda', async () => {
    const status = (await cli(['status'])).json<{
      provider: string;
      environments: {
        name: string;
        functions: { function: string; live: { version: number; release: string; sha256: string } | null }[];
      }[];
    }>();
    expect(status.provider).toBe('aws');
    for (const env of status.environments) {
      for (const fn of env.functions)
        expect(fn.live, `${env.name}/${fn.function}`).toMatchObject({
          version: 1,
          release: build.release,
          sha256: shaOf(build, fn.function),
        });
    }
  }, 180_000);

  it('deploying the same release again publishes nothing and leaves the stack alone', async () => {
    const before = (await ledger()).length;
    const again = (await deploy('dev')).json<DeployJson>();
    expect(again.status).toBe('succeeded');
    expect(deployedFunctions(again).map((fn) => [fn.version, fn.published])).toEqual([
      [1, false],
      [1, false],
      [1, false],
    ]);
    const added = (await ledger()).slice(before);
    // Aliases already where they should be are not moved again: no change, no record.
    expect(added.map((entry) => entry.kind).filter((kind) => /^(stack|instance|version|alias)\./.test(kind))).toEqual(
      [],
    );
    expect(added.map((entry) => entry.kind)).toContain('promotion.succeeded');
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'shop-api-dev' }));
    expect(versions.Versions?.map((version) => version.Version)).toEqual(['$LATEST', '1']);
  }, 180_000);

  it('a code-only release publishes new versions without a stack update', async () => {
    app.write('src/api.ts', app.read('src/api.ts').replace("status: 'ok',", "status: 'ok', revision: 2,"));
    const second = (await cli(['build'])).json<BuildJson>();
    expect(shaOf(second, 'api')).not.toBe(shaOf(build, 'api'));
    const before = (await ledger()).length;
    const deployed = (await deploy('dev')).json<DeployJson>();
    // The worker's and the report's code and config are unchanged: Lambda publishes no new version
    // of them, and they stay on theirs (which the earlier release published).
    expect(deployedFunctions(deployed).map((fn) => [fn.function, fn.version, fn.published])).toEqual([
      ['api', 2, true],
      ['report', 1, false],
      ['worker', 1, false],
    ]);
    expect(shaOf(second, 'worker')).toBe(shaOf(build, 'worker'));
    const kinds = (await ledger()).slice(before).map((entry) => entry.kind);
    expect(kinds.filter((kind) => kind.startsWith('stack.'))).toEqual([]);
    expect((await liveCode('shop-api-dev')).sha256).toBe(shaOf(second, 'api'));
    expect((await liveCode('shop-api-staging')).sha256).toBe(shaOf(build, 'api'));
  }, 180_000);

  it('an infrastructure change updates the stack', async () => {
    app.write(
      'stagecraft.yml',
      app
        .read('stagecraft.yml')
        .replace(
          '    orders: { partitionKey: id }',
          '    orders: { partitionKey: id }\n    audit: { partitionKey: at }',
        ),
    );
    await cli(['build']);
    const before = (await ledger()).length;
    await deploy('dev');
    const added = (await ledger()).slice(before);
    expect(
      added.filter((entry) => entry.kind.startsWith('stack.')).map((entry) => [entry.kind, entry.environment]),
    ).toEqual([['stack.updated', 'dev']]);
    const dynamodb = new DynamoDBClient({});
    try {
      expect((await dynamodb.send(new DescribeTableCommand({ TableName: 'shop-audit-dev' }))).Table?.TableStatus).toBe(
        'ACTIVE',
      );
    } finally {
      dynamodb.destroy();
    }
    expect((await liveCode('shop-api-dev')).variables['STAGECRAFT_TABLE_AUDIT']).toBe('shop-audit-dev');
  }, 180_000);

  it('refuses to publish code whose sha256 is not the release artifact, and moves nothing', async () => {
    const worker = app.read('src/worker.ts');
    expect(worker).toContain("status: 'stored'"); // the edit below must change the worker's code
    app.write('src/worker.ts', worker.replace("status: 'stored'", "status: 'stored:3'"));
    const third = (await cli(['build'])).json<BuildJson>();
    const sha = shaOf(third, 'worker') ?? '';
    const s3 = new S3Client({ forcePathStyle: true });
    try {
      // Someone put other bytes under the artifact's name before Stagecraft uploaded it.
      await s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: `artifacts/${sha}.zip`, Body: Buffer.from('not the artifact') }),
      );
    } finally {
      s3.destroy();
    }
    const liveBefore = await liveCode('shop-worker-staging');
    // Forced past the chain (dev has not run this release): the artifact check still stops it.
    const refused = await cli(
      ['deploy', 'staging', '--force', '--reason', 'the artifact check holds even when forced'],
      1,
    );
    const failure = refused.json<{ status: string; failure: { reason: string; details: string[] } }>();
    expect(failure.status).toBe('failed');
    expect(failure.failure.reason).toMatch(
      new RegExp(
        `Lambda installed code with sha256 \\w+ for shop-worker-staging, but the release's artifact is ${sha}`,
      ),
    );
    expect(failure.failure.details.join('\n')).toContain(`s3://${BUCKET}/artifacts/${sha}.zip`);
    expect(await liveCode('shop-worker-staging')).toEqual(liveBefore);
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'shop-worker-staging' }));
    expect(versions.Versions?.map((version) => version.Version)).toEqual(['$LATEST', '1']);
  }, 180_000);

  it('says what is wrong when AWS cannot be reached, and exits 1', async () => {
    const result = await runCli(['deploy', 'dev', '--json', '--dir', app.dir], {
      env: { ...moto.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    });
    expect(result.code).toBe(1);
    const { failure } = result.json<{ failure: { reason: string; details: string[] } }>();
    expect(failure.reason).toContain('ECONNREFUSED');
    expect(failure.details.join('\n')).toContain('AWS_ENDPOINT_URL');
  }, 180_000);
});
