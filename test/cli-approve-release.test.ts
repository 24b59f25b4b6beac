/**
 * `approve <env> --release R`, as a CI pipeline's button runs it: exactly R or nothing. Refused
 * (exit 3) while staging's soak time runs, with the time left; refused when the promotion waiting
 * in prod is of another release; and when nothing waits, R goes on from staging into prod with
 * the approver recorded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';

interface Outcome {
  status: string;
  release: string;
  refusal?: { environment: string; remainingMs: number };
  environments: { name: string; step: string; approval?: { by: string } }[];
}
interface StatusJson {
  environments: { name: string; functions: { live: { release: string } | null }[] }[];
}
interface Failure {
  ok: false;
  error: { code: string; message: string };
}

describe('approve --release', () => {
  const app = copyApp('promo');
  app.write(
    'stagecraft.yml',
    app.read('stagecraft.yml').replace('  - name: staging\n', '  - name: staging\n    soak: 1h\n'),
  );
  const out = mkdtempSync(join(tmpdir(), 'stagecraft-approve-out-'));
  afterAll(() => {
    app.remove();
    rmSync(out, { recursive: true, force: true });
  });
  const cli = async <T>(...args: string[]) => {
    const result = await runCli([...args, '--json', '--dir', app.dir], { env: { PROMO_OUT: out }, timeoutMs: 120_000 });
    return { code: result.code, body: result.json<T>(), stderr: result.stderr };
  };
  const build = async (mark: string) => {
    app.write(
      'src/api.mjs',
      app.read('src/api.mjs').replace(/const MARK = .*;/, `const MARK = ${JSON.stringify(mark)};`),
    );
    return (await cli<{ release: string }>('build')).body.release;
  };
  const live = async (env: string) =>
    (await cli<StatusJson>('status')).body.environments.find((candidate) => candidate.name === env)?.functions[0]?.live
      ?.release;

  it('is refused while the soak of the environment before runs, with the time left', async () => {
    const first = await build('one');
    expect((await cli<Outcome>('promote', '--release', first, '--to', 'staging')).code).toBe(0);
    const early = await cli<Outcome>('approve', 'prod', '--release', first, '--by', 'Ada');
    expect(early.code, early.stderr).toBe(3);
    expect(early.body.status).toBe('refused');
    expect(early.body.refusal?.environment).toBe('staging');
    expect(early.body.refusal?.remainingMs).toBeGreaterThan(59 * 60_000);
    expect(early.stderr).toMatch(/must be live in staging for 1h before it goes further: .* left/);
    expect(await live('prod')).toBeUndefined();
  });

  it('is refused (exit 3) when the promotion waiting in prod is of another release; the right one goes live', async () => {
    const first = (await cli<StatusJson>('status')).body.environments[1]?.functions[0]?.live?.release ?? '';
    const paused = await cli<Outcome>('promote', '--release', first, '--skip-soak', '--reason', 'test');
    expect(paused.body.status).toBe('awaiting-approval');
    const second = await build('two');
    const wrong = await cli<Failure>('approve', 'prod', '--release', second, '--by', 'Ada');
    expect(wrong.code).toBe(3);
    expect(wrong.body.error).toMatchObject({
      code: 'APPROVAL_REFUSED',
      message: `the promotion waiting in prod is of ${first}, not ${second}`,
    });
    expect(await live('prod')).toBeUndefined();
    const right = await cli<Outcome>('approve', 'prod', '--release', first, '--by', 'Ada');
    expect(right.code, right.stderr).toBe(0);
    expect(await live('prod')).toBe(first);
  });

  it('with nothing waiting, refuses a release staging does not run, and promotes the one it runs from staging into prod', async () => {
    const second = await build('two');
    const refused = await cli<Failure>('approve', 'prod', '--release', second, '--by', 'Ada');
    expect(refused.code).toBe(3);
    expect(refused.body.error.message).toContain(`not ${second}`);
    expect((await cli<Outcome>('promote', '--release', second, '--to', 'staging')).code).toBe(0);
    app.write('stagecraft.yml', app.read('stagecraft.yml').replace('    soak: 1h\n', ''));
    const approved = await cli<Outcome>('approve', 'prod', '--release', second, '--by', 'Grace');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.body.environments.map((env) => [env.name, env.step])).toEqual([
      ['staging', 'passed'],
      ['prod', 'live'],
    ]);
    expect(approved.body.environments[1]?.approval?.by).toBe('Grace');
    expect(await live('prod')).toBe(second);
  });
});
