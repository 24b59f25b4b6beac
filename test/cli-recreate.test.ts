/**
 * "Recreate everything with one command" on the local provider: a release promoted through
 * dev → staging → prod (a manual gate), every environment destroyed, then `promote --release R`
 * brings each back — the gate honoured again, `synth` byte-identical, the same sha256 live.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';

interface StatusJson {
  environments: { name: string; functions: { function: string; live: { sha256: string; release: string } | null }[] }[];
}

const ENVS = ['dev', 'staging', 'prod'];

describe('recreate every environment from a release (local)', () => {
  const app = copyApp('recreate');
  afterAll(() => app.remove());
  const cli = async (args: string[], code = 0) => {
    const result = await runCli([...args, '--dir', app.dir]);
    expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(code);
    return result;
  };
  const live = async () =>
    Object.fromEntries(
      (await cli(['status', '--json']))
        .json<StatusJson>()
        .environments.map((env) => [
          env.name,
          env.functions.map((fn) => fn.live && `${fn.function} ${fn.live.release} ${fn.live.sha256}`),
        ]),
    );
  const synth = async () => Promise.all(ENVS.map(async (env) => (await cli(['synth', env])).stdout));

  it('destroys every environment and brings them back with one promote of the same release', async () => {
    const release = (await cli(['build', '--json'])).json<{ release: string }>().release;
    expect((await cli(['promote', '--json'])).json<{ status: string }>().status).toBe('awaiting-approval');
    // The approver sees what they let through before the gate opens.
    expect((await cli(['approve', 'prod'])).stderr).toContain(
      `${release} into prod (now nothing live there), compared from staging`,
    );
    const before = await live();
    expect(before['prod']?.every((line) => line?.includes(release))).toBe(true);
    const templates = await synth();

    for (const env of ENVS) await cli(['destroy', env, '--force', '--yes']);
    expect(
      Object.values(await live())
        .flat()
        .every((line) => line === null),
    ).toBe(true);

    // The gate still holds: prod waits for a person again.
    expect((await cli(['promote', '--release', release, '--json'])).json<{ status: string }>().status).toBe(
      'awaiting-approval',
    );
    expect((await live())['prod']?.every((line) => line === null)).toBe(true);
    await cli(['approve', 'prod']);
    expect(await live()).toEqual(before);
    expect(await synth()).toEqual(templates);
    await cli(['doctor']);
  });
});
