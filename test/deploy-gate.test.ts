/**
 * `deploy <env>` respects the chain as protected environments do in CI: a manual gate, or a
 * predecessor that has not run the release, refuses it (exit 3) unless `--force --reason …`,
 * which the ledger records with the actor.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';

interface LedgerJson {
  entries: {
    kind: string;
    actor: string;
    environment: string | null;
    releaseId: string | null;
    detail: Record<string, unknown>;
  }[];
}

describe('deploy into a protected environment', () => {
  const app = copyApp('basic');
  afterAll(() => app.remove());
  const cli = (...args: string[]) => runCli([...args, '--dir', app.dir]);
  const ledger = async () => (await cli('history', '--json')).json<LedgerJson>().entries;

  it('is refused past a manual gate or ahead of the chain, and allowed with --force --reason, recorded', async () => {
    const built = await cli('build', '--json');
    expect(built.code, built.stderr).toBe(0);
    const release = built.json<{ release: string }>().release;
    const before = (await ledger()).length;

    const ahead = await cli('deploy', 'staging');
    expect(ahead.code).toBe(3);
    expect(ahead.stderr).toMatch(new RegExp(`dev has not run ${release}`));
    expect(ahead.stderr).toMatch(/--force --reason/);
    const gated = await cli('deploy', 'prod');
    expect(gated.code).toBe(3);
    expect(gated.stderr).toMatch(/prod needs a manual approval/);
    expect(await ledger()).toHaveLength(before);
    const noReason = await cli('deploy', 'prod', '--force');
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--force needs a --reason/);

    expect((await cli('deploy', 'dev')).code).toBe(0);
    const next = await cli('deploy', 'staging');
    expect(next.code, next.stderr).toBe(0);
    expect((await cli('deploy', 'prod')).code).toBe(3);
    const forced = await runCli(['deploy', 'prod', '--force', '--reason', 'hotfix for incident 42', '--dir', app.dir], {
      env: { STAGECRAFT_ACTOR: 'Grace Hopper' },
    });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/forced by Grace Hopper: hotfix for incident 42/);
    const record = (await ledger()).find((entry) => entry.kind === 'deploy.forced');
    expect(record).toMatchObject({
      actor: 'Grace Hopper',
      environment: 'prod',
      releaseId: release,
      detail: expect.objectContaining({ reason: 'hotfix for incident 42' }),
    });
    expect(String(record?.detail['bypassed'])).toMatch(/manual approval/);
    expect((await cli('history', '--env', 'prod')).stdout).toMatch(/deploy\.forced +prod .*hotfix for incident 42/);
  }, 90_000);
});
