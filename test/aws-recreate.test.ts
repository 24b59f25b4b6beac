/**
 * On the aws provider against moto_server: an ephemeral environment gets its own stack and
 * functions and `destroy` removes them (the chain untouched); then every environment is
 * destroyed (stacks and functions gone from AWS) and `promote --release R` brings them back —
 * the gate honoured, the stacks holding `synth`'s template byte for byte, the same sha256 live.
 */
import { CloudFormationClient, DescribeStacksCommand, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import {
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  GetFunctionCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';
import { startMotoSession, type Moto, type MotoSession } from './helpers/moto.js';

const ENVS = ['dev', 'staging', 'prod'];
const FUNCTIONS = ['api', 'worker'];

describe('ephemeral environments and recreate (aws on moto)', () => {
  const app = copyApp('recreate');
  app.write('stagecraft.yml', app.read('stagecraft.yml').replace(/^runtime:/m, 'provider: aws\nruntime:'));
  let moto: Moto;
  let session: MotoSession | undefined;
  let lambda: LambdaClient;
  let cloudformation: CloudFormationClient;
  let release: string;
  const cli = async (args: string[], code = 0) => {
    const result = await runCli([...args, '--dir', app.dir], { env: moto.env });
    expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(code);
    return result;
  };
  const stackExists = async (name: string) =>
    cloudformation.send(new DescribeStacksCommand({ StackName: name })).then(
      (out) => out.Stacks?.[0]?.StackStatus !== 'DELETE_COMPLETE',
      () => false,
    );
  const functionExists = async (name: string) =>
    lambda.send(new GetFunctionCommand({ FunctionName: name })).then(
      () => true,
      () => false,
    );
  const liveSha = async (instance: string) => {
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: instance, Name: 'live' }));
    const version = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: instance, Qualifier: alias.FunctionVersion }),
    );
    return Buffer.from(version.CodeSha256 ?? '', 'base64').toString('hex');
  };
  const everyLive = async () =>
    Promise.all(ENVS.flatMap((env) => FUNCTIONS.map((fn) => liveSha(`again-${fn}-${env}`))));
  const held = async () =>
    Promise.all(
      ENVS.map(
        async (env) => (await cloudformation.send(new GetTemplateCommand({ StackName: `again-${env}` }))).TemplateBody,
      ),
    );
  const synth = async () => Promise.all(ENVS.map(async (env) => (await cli(['synth', env])).stdout));

  beforeAll(async () => {
    session = await startMotoSession();
    ({ moto, lambda } = session);
    cloudformation = new CloudFormationClient({});
    release = (await cli(['build', '--json'])).json<{ release: string }>().release;
    expect((await cli(['promote', '--json'])).json<{ status: string }>().status).toBe('awaiting-approval');
    await cli(['approve', 'prod']);
  }, 240_000);
  afterAll(async () => {
    cloudformation?.destroy();
    await session?.stop();
    app.remove();
  });

  it('gives an ephemeral environment its own stack and functions, and destroy removes only those', async () => {
    await cli(['deploy', '--ephemeral', '--name', 'alice/login']);
    expect(await stackExists('again-dev-alice-login')).toBe(true);
    expect(await liveSha('again-api-dev-alice-login')).toBe(await liveSha('again-api-dev'));
    const status = (await cli(['status', '--json'])).json<{
      environments: { name: string; ephemeral?: { owner: string; branch: string } }[];
    }>();
    expect(status.environments.find((env) => env.name === 'dev-alice-login')?.ephemeral).toMatchObject({
      owner: 'alice',
      branch: 'login',
    });

    await cli(['destroy', 'dev-alice-login']);
    expect(await stackExists('again-dev-alice-login')).toBe(false);
    expect(await functionExists('again-api-dev-alice-login')).toBe(false);
    expect(await stackExists('again-dev')).toBe(true);
    expect(await functionExists('again-api-dev')).toBe(true);
  });

  it('destroys every environment and brings them back with one promote of the same release', async () => {
    const before = await everyLive();
    const templates = await synth();
    const heldBefore = await held();
    for (const env of ENVS) await cli(['destroy', env, '--force', '--yes']);
    for (const env of ENVS) {
      expect(await stackExists(`again-${env}`)).toBe(false);
      for (const fn of FUNCTIONS) expect(await functionExists(`again-${fn}-${env}`)).toBe(false);
    }

    expect((await cli(['promote', '--release', release, '--json'])).json<{ status: string }>().status).toBe(
      'awaiting-approval',
    );
    // Paused at the gate: prod has the new version on smoke, and no live yet.
    await expect(liveSha('again-api-prod')).rejects.toThrow();
    await cli(['approve', 'prod']);
    expect(await everyLive()).toEqual(before);
    expect(await synth()).toEqual(templates);
    expect(await held()).toEqual(heldBefore);
  });

  it('shows a runner the ephemeral environments another made (shared state), and its gc destroys the expired one', async () => {
    const machines = [copyApp('recreate'), copyApp('recreate')];
    try {
      for (const machine of machines) {
        machine.write(
          'stagecraft.yml',
          machine
            .read('stagecraft.yml')
            .replace(/^runtime:/m, 'provider: aws\nruntime:')
            .replace('app: again', 'app: shared')
            .concat('\nstate: { backend: dynamodb, table: team-state }\n'),
        );
      }
      const [a, b] = machines as [(typeof machines)[0], (typeof machines)[0]];
      const run = async (machine: typeof a, args: string[]) => {
        const result = await runCli([...args, '--json', '--dir', machine.dir], { env: moto.env });
        expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
        return result;
      };
      await run(a, ['build']);
      await run(a, ['deploy', '--ephemeral', '--name', 'carol/old', '--ttl', '1ms']);
      await run(a, ['deploy', '--ephemeral', '--name', 'dan/new']);
      expect(await stackExists('shared-dev-carol-old')).toBe(true);
      const dry = (await run(b, ['gc', '--dry-run'])).json<{
        expired: { name: string; owner: string }[];
        kept: { name: string }[];
      }>();
      expect(dry.expired.map((env) => [env.name, env.owner])).toEqual([['dev-carol-old', 'carol']]);
      expect(dry.kept.map((env) => env.name)).toEqual(['dev-dan-new']);
      await run(b, ['gc']);
      expect(await stackExists('shared-dev-carol-old')).toBe(false);
      expect(await functionExists('shared-api-dev-carol-old')).toBe(false);
      expect(await stackExists('shared-dev-dan-new')).toBe(true);
      // The machine that made it sees it gone too.
      const listed = (await run(a, ['status']))
        .json<{ environments: { name: string }[] }>()
        .environments.map((env) => env.name);
      expect(listed).toEqual(['dev', 'staging', 'prod', 'dev-dan-new']);
    } finally {
      for (const machine of machines) machine.remove();
    }
  });
});
