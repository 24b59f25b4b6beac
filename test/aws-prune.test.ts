/**
 * `stagecraft prune` on the aws provider against moto_server: five releases deployed to dev;
 * the dry run deletes nothing from Lambda; `--yes --keep 2` deletes the versions outside the last
 * two releases with DeleteFunction (read back with ListVersionsByFunction), each in the ledger,
 * and `rollback dev` still finds the version it needs.
 */
import { ListVersionsByFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';
import { startMotoSession, type Moto, type MotoSession } from './helpers/moto.js';

interface PruneJson {
  applied: boolean;
  deleted: number;
  instances: { instance: string; kept: { version: number }[]; deleted: { version: number }[] }[];
}
interface LedgerJson {
  entries: { kind: string; instance: string | null; version: number | null }[];
}

describe('stagecraft prune (aws on moto)', () => {
  const app = copyApp('pruned');
  app.write('stagecraft.yml', app.read('stagecraft.yml').replace(/^runtime:/m, 'provider: aws\nruntime:'));
  let moto: Moto;
  let session: MotoSession | undefined;
  let lambda: LambdaClient;
  const cli = async (args: string[]) => {
    const result = await runCli([...args, '--json', '--dir', app.dir], { env: moto.env });
    expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
    return result;
  };
  const lambdaVersions = async (name: string) =>
    ((await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }))).Versions ?? [])
      .map((version) => version.Version)
      .filter((version) => version !== '$LATEST')
      .map(Number);

  beforeAll(async () => {
    session = await startMotoSession();
    ({ moto, lambda } = session);
    for (let n = 1; n <= 5; n++) {
      app.write('src/api.ts', `export const BUILD = ${n};\nexport const handler = async () => ({ build: BUILD });\n`);
      await cli(['build']);
      await cli(['deploy', 'dev']);
    }
  }, 180_000);
  afterAll(async () => {
    await session?.stop();
    app.remove();
  });

  it('lists without deleting, then deletes only what no rollback within --keep needs', async () => {
    expect(await lambdaVersions('pruned-api-dev')).toEqual([1, 2, 3, 4, 5]);
    const dry = (await cli(['prune', '--keep', '2'])).json<PruneJson>();
    expect(dry.applied).toBe(false);
    expect(
      dry.instances.find((entry) => entry.instance === 'pruned-api-dev')?.deleted.map((entry) => entry.version),
    ).toEqual([1, 2, 3]);
    expect(await lambdaVersions('pruned-api-dev')).toEqual([1, 2, 3, 4, 5]);

    const done = (await cli(['prune', '--keep', '2', '--yes'])).json<PruneJson>();
    expect(done).toMatchObject({ applied: true, deleted: 3 });
    expect(await lambdaVersions('pruned-api-dev')).toEqual([4, 5]);
    const ledger = (await cli(['history']))
      .json<LedgerJson>()
      .entries.filter((entry) => entry.kind === 'version.deleted');
    expect(ledger.map((entry) => [entry.instance, entry.version])).toEqual([
      ['pruned-api-dev', 1],
      ['pruned-api-dev', 2],
      ['pruned-api-dev', 3],
    ]);

    await cli(['rollback', 'dev']);
    expect(
      (await cli(['status']))
        .json<{ environments: { name: string; functions: { live: { version: number } | null }[] }[] }>()
        .environments.find((env) => env.name === 'dev')?.functions[0]?.live?.version,
    ).toBe(4);
  });
});
