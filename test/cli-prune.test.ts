/**
 * `stagecraft prune` through the real CLI on the local provider: five releases deployed to dev,
 * two to prod; a dry run deletes nothing; `--yes --keep 2` deletes exactly the versions outside
 * the last two releases of each environment (and not the ones aliases hold), each in the ledger;
 * `rollback` still works afterwards and a new version never reuses a deleted number.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';

interface PruneJson {
  applied: boolean;
  deleted: number;
  instances: { instance: string; kept: { version: number; reasons: string[] }[]; deleted: { version: number }[] }[];
}
interface LedgerJson {
  entries: { kind: string; instance: string | null; version: number | null; operation: string }[];
}
interface DeployJson {
  environments: { functions: { version: number }[] }[];
}

describe('stagecraft prune (local)', () => {
  const app = copyApp('pruned');
  afterAll(() => app.remove());
  const cli = async (args: string[], code = 0) => {
    const result = await runCli([...args, '--json', '--dir', app.dir]);
    expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(code);
    return result;
  };
  const release = async (n: number) => {
    app.write('src/api.ts', `export const BUILD = ${n};\nexport const handler = async () => ({ build: BUILD });\n`);
    await cli(['build']);
  };
  const ledger = async () => (await cli(['history'])).json<LedgerJson>().entries;
  const plan = async (args: string[] = []) => (await cli(['prune', ...args])).json<PruneJson>();
  const of = (result: PruneJson, instance: string) => result.instances.find((entry) => entry.instance === instance);

  it('keeps what aliases and the last N releases need, deletes the rest only with --yes, and records each deletion', async () => {
    for (let n = 1; n <= 5; n++) {
      await release(n);
      await cli(['deploy', 'dev']);
      if (n === 2 || n === 5) await cli(['deploy', 'prod']);
    }
    const before = await ledger();
    const dry = await plan(['--keep', '2']);
    expect(dry.applied).toBe(false);
    expect(of(dry, 'pruned-api-dev')?.deleted.map((entry) => entry.version)).toEqual([1, 2, 3]);
    expect(of(dry, 'pruned-api-dev')?.kept.map((entry) => entry.version)).toEqual([4, 5]);
    // prod ran two releases: both stay within reach of a rollback.
    expect(of(dry, 'pruned-api-prod')?.deleted).toEqual([]);
    expect(await ledger()).toEqual(before);

    const done = await plan(['--keep', '2', '--yes']);
    expect(done).toMatchObject({ applied: true, deleted: 3 });
    const deletions = (await ledger()).filter((entry) => entry.kind === 'version.deleted');
    expect(deletions.map((entry) => [entry.instance, entry.version, entry.operation])).toEqual([
      ['pruned-api-dev', 1, 'prune'],
      ['pruned-api-dev', 2, 'prune'],
      ['pruned-api-dev', 3, 'prune'],
    ]);
    expect((await plan(['--keep', '2'])).deleted).toBe(0);

    // With the default keep (3) nothing more goes; with 1, prod's older release goes, but not what an alias holds.
    expect((await plan()).deleted).toBe(0);
    const one = await plan(['--keep', '1']);
    expect(of(one, 'pruned-api-prod')?.deleted.map((entry) => entry.version)).toEqual([1]);
    expect(of(one, 'pruned-api-dev')?.deleted.map((entry) => entry.version)).toEqual([4]);

    // What was kept is what rollback needs.
    await cli(['rollback', 'dev']);
    await cli(['rollback', 'prod']);
    await cli(['doctor']);
    // A new version takes a number never used.
    await release(6);
    const next = (await cli(['deploy', 'dev'])).json<DeployJson>();
    expect(next.environments[0]?.functions[0]?.version).toBe(6);
  });

  it('refuses a --keep that is not a whole number of releases with exit 2', async () => {
    const bad = await cli(['prune', '--keep', '0'], 2);
    expect(bad.stderr).toContain('--keep 0 is not a number of releases');
  });
});
