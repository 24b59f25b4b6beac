/**
 * The promotion loop end to end, for both strategies: the real CLI on the `promo` fixture app,
 * a real SQLite file, smoke tests of all three kinds (http through an ephemeral gateway or a
 * running `up`, invoke, run), the manual gate, soak times, rollback of lower environments, the
 * lock, and event sources that follow `live` only.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyApp, runCli, type CliResult } from './helpers/cli.js';
import { startUp } from './helpers/up.js';
import { eventually } from './helpers/wait.js';

interface Outcome {
  ok: boolean;
  promotion: string;
  release: string;
  status: string;
  environments: {
    name: string;
    step: string;
    tests?: { name: string; ok: boolean }[];
    functions: { function: string; version: number | null }[];
  }[];
  failure?: { environment: string; step: string; reason: string };
  refusal?: { environment: string; remainingMs: number; eligibleAt: string };
}
interface StatusJson {
  environments: {
    name: string;
    functions: {
      function: string;
      live: { version: number; release: string; sha256: string } | null;
      smoke: { release: string } | null;
    }[];
  }[];
  promotions: { id: string; status: string; environment: string }[];
}
interface LedgerJson {
  entries: {
    kind: string;
    environment: string | null;
    releaseId: string | null;
    actor: string;
    detail: Record<string, unknown>;
  }[];
}

describe.each(['multi-stack', 'single-stack'] as const)('promotion (%s)', (strategy) => {
  const app = copyApp('promo');
  const out = mkdtempSync(join(tmpdir(), 'stagecraft-promo-out-'));
  if (strategy === 'single-stack')
    app.write(
      'stagecraft.yml',
      app.read('stagecraft.yml').replace('runtime: nodejs20.x', 'runtime: nodejs20.x\nstrategy: single-stack'),
    );
  afterAll(() => {
    app.remove();
    rmSync(out, { recursive: true, force: true });
  });

  const cli = (...args: string[]): Promise<CliResult> =>
    runCli([...args, '--dir', app.dir], { env: { PROMO_OUT: out } });
  const json = async <T>(...args: string[]): Promise<{ code: number; body: T; stderr: string }> => {
    const result = await cli(...args, '--json');
    return { code: result.code, body: result.json<T>(), stderr: result.stderr };
  };
  const build = async (broken: string[] = [], mark = ''): Promise<string> => {
    app.write(
      'src/api.mjs',
      app
        .read('src/api.mjs')
        .replace(/const BROKEN_IN = .*;/, `const BROKEN_IN = ${JSON.stringify(broken)};`)
        .replace(/const MARK = .*;/, `const MARK = ${JSON.stringify(mark)};`),
    );
    const built = await json<{ release: string }>('build');
    expect(built.code, built.stderr).toBe(0);
    return built.body.release;
  };
  const liveReleases = async (): Promise<Record<string, string[]>> => {
    const { body } = await json<StatusJson>('status');
    return Object.fromEntries(
      body.environments.map((env) => [env.name, env.functions.map((fn) => fn.live?.release ?? '-')]),
    );
  };
  const ledger = async (): Promise<LedgerJson['entries']> => (await json<LedgerJson>('history')).body.entries;

  let good = '';

  it('a good release goes dev → staging, pauses at prod, and goes live there once approved', async () => {
    good = await build();
    const paused = await json<Outcome>('promote');
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.body).toMatchObject({ ok: true, status: 'awaiting-approval', release: good });
    expect(paused.stderr).toMatch(/awaits a manual approval in prod \(awaiting-approval\)/);
    expect(paused.body.environments.map((env) => env.step)).toEqual(['live', 'live', 'awaiting-approval']);
    expect(paused.body.environments[0]?.tests?.map((test) => [test.name, test.ok])).toEqual([
      ['hello-http', true],
      ['hello-invoke', true],
      ['script', true],
    ]);
    const waiting = (await json<StatusJson>('status')).body;
    expect(waiting.promotions).toEqual([expect.objectContaining({ status: 'awaiting-approval', environment: 'prod' })]);
    expect(waiting.environments[2]?.functions.every((fn) => fn.live === null && fn.smoke?.release === good)).toBe(true);

    const approved = await json<Outcome>('approve', 'prod', '--by', 'Ada Lovelace');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.body.status).toBe('succeeded');
    const status = (await json<StatusJson>('status')).body;
    expect(status.promotions).toEqual([]);
    for (const fn of ['api', 'worker']) {
      const shas = new Set(
        status.environments.map((env) => env.functions.find((candidate) => candidate.function === fn)?.live?.sha256),
      );
      expect(shas.size, `${fn} runs one artifact everywhere`).toBe(1);
      expect([...shas][0]).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(await liveReleases()).toEqual({ dev: [good, good], staging: [good, good], prod: [good, good] });
    const approval = (await ledger()).find((entry) => entry.kind === 'promotion.approved');
    expect(approval).toMatchObject({
      environment: 'prod',
      releaseId: good,
      detail: expect.objectContaining({ approvedBy: 'Ada Lovelace' }),
    });
    const text = await cli('history', '--env', 'prod');
    expect(text.stdout).toMatch(/promotion\.approved {2}prod {2}p1 approved by Ada Lovelace/);
    expect(text.stdout).toMatch(/smoke\.passed {2}prod {2}p1 script \(\d+ ms\)/);
  }, 60_000);

  it('a release whose smoke test fails in staging leaves dev and staging on the previous live and prod untouched', async () => {
    const broken = await build(['staging']);
    const prodBefore = (await ledger()).filter((entry) => entry.environment === 'prod').length;
    const failed = await json<Outcome>('promote');
    expect(failed.code).toBe(1);
    expect(failed.body).toMatchObject({
      ok: false,
      status: 'failed',
      release: broken,
      failure: { environment: 'staging', step: 'smoke' },
    });
    expect(failed.body.failure?.reason).toMatch(/hello-http, hello-invoke, script failed in staging/);
    expect(failed.body.environments.map((env) => env.step)).toEqual(['restored', 'restored', 'pending']);
    expect(await liveReleases()).toEqual({ dev: [good, good], staging: [good, good], prod: [good, good] });
    const entries = await ledger();
    expect(entries.filter((entry) => entry.environment === 'prod')).toHaveLength(prodBefore);
    const failure = entries.find((entry) => entry.kind === 'promotion.failed');
    expect(failure?.detail).toMatchObject({
      failedIn: 'staging',
      rolledBack: ['staging', 'dev'],
      reason: expect.stringContaining('failed in staging'),
    });
    expect(
      entries
        .filter((entry) => entry.kind === 'smoke.failed' && entry.environment === 'staging')
        .map((entry) => entry.detail['test']),
    ).toEqual(['hello-http', 'hello-invoke', 'script']);
    expect((await cli('history')).stdout).toMatch(/promotion\.failed .*failed in staging; rolled back staging, dev/);
    expect((await json<{ ok: boolean }>('doctor')).body.ok).toBe(true);
  }, 60_000);

  it('a release whose run smoke test fails in prod after approval rolls back all three', async () => {
    const next = await build([], 'prod-failure');
    const paused = await json<Outcome>('promote');
    expect(paused.body.status, paused.stderr).toBe('awaiting-approval');
    expect(await liveReleases()).toEqual({ dev: [next, next], staging: [next, next], prod: [good, good] });
    writeFileSync(join(app.dir, 'fail-prod'), '');
    try {
      const approved = await json<Outcome>('approve', 'prod');
      expect(approved.code).toBe(1);
      expect(approved.body.failure).toMatchObject({ environment: 'prod', step: 'smoke' });
      expect(approved.body.failure?.reason).toMatch(/script failed in prod/);
      expect(approved.body.environments.map((env) => env.step)).toEqual(['restored', 'restored', 'restored']);
    } finally {
      rmSync(join(app.dir, 'fail-prod'));
    }
    expect(await liveReleases()).toEqual({ dev: [good, good], staging: [good, good], prod: [good, good] });
    const failed = (await ledger()).filter((entry) => entry.kind === 'smoke.failed' && entry.environment === 'prod');
    expect(failed.map((entry) => entry.detail['failure'])).toEqual([
      expect.arrayContaining([expect.stringContaining('prod is broken: fail-prod exists')]),
    ]);
  }, 60_000);

  it('soak: staging must serve a release for its soak time before prod; --skip-soak --reason passes and is recorded', async () => {
    // A soak far longer than the test: nothing here depends on how fast the machine runs the commands.
    app.write(
      'stagecraft.yml',
      app.read('stagecraft.yml').replace('  - name: staging\n', '  - name: staging\n    soak: 10m\n'),
    );
    const soaking = await build([], 'soak');
    const refused = await json<Outcome>('promote');
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.body).toMatchObject({ ok: false, status: 'refused', refusal: { environment: 'staging' } });
    expect(refused.body.refusal?.remainingMs).toBeGreaterThan(0);
    expect(refused.body.refusal?.remainingMs).toBeLessThanOrEqual(600_000);
    expect(refused.stderr).toMatch(
      /must be live in staging for 10m before it goes further: .* left, eligible at \d{4}-/,
    );
    expect(await liveReleases()).toEqual({ dev: [soaking, soaking], staging: [soaking, soaking], prod: [good, good] });

    const noReason = await cli('promote', '--skip-soak');
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--skip-soak needs a --reason/);

    const skipped = await json<Outcome>('promote', '--skip-soak', '--reason', 'hotfix for incident 42');
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.body.status).toBe('awaiting-approval');
    expect(skipped.body.environments.map((env) => env.step)).toEqual(['passed', 'passed', 'awaiting-approval']);
    const record = (await ledger()).find((entry) => entry.kind === 'soak.skipped');
    expect(record).toMatchObject({
      environment: 'staging',
      releaseId: soaking,
      detail: expect.objectContaining({ reason: 'hotfix for incident 42', soak: '10m' }),
    });
    expect((await json<Outcome>('approve', 'prod')).body.status).toBe('succeeded');

    // Without skipping: refused until the soak time has passed, then through.
    const later = await build([], 'soak-later');
    expect((await json<Outcome>('promote', '--to', 'staging')).body.status).toBe('succeeded');
    expect((await cli('promote')).code).toBe(3);
    // The soak is read from the manifest at each promote: shortened to 1s, the release becomes eligible once it
    // has been live in staging that long; until then every promote is refused and changes nothing.
    app.write('stagecraft.yml', app.read('stagecraft.yml').replace('    soak: 10m\n', '    soak: 1s\n'));
    const through = await eventually(
      async () => {
        const attempt = await json<Outcome>('promote');
        return attempt.code === 3 ? undefined : attempt;
      },
      30_000,
      'the soak to pass',
    );
    expect(through.body.status, through.stderr).toBe('awaiting-approval');
    expect((await json<Outcome>('approve', 'prod')).body.status).toBe('succeeded');
    good = later;
    app.write('stagecraft.yml', app.read('stagecraft.yml').replace('    soak: 1s\n', ''));
  }, 90_000);

  it('two promotions at once: one runs, the other is refused with exit 3 naming the holder', async () => {
    const next = await build([], 'concurrent');
    const [a, b] = await Promise.all([cli('promote', '--release', next), cli('promote', '--release', next)]);
    const codes = [a.code, b.code].sort();
    expect(codes, `${a.stderr}\n---\n${b.stderr}`).toEqual([0, 3]);
    const refused = a.code === 3 ? a : b;
    expect(refused.stderr).toMatch(/promo is locked by `promote` \(pid \d+ on \S+, since \d{4}-/);
    expect((await json<Outcome>('approve', 'prod')).body.status).toBe('succeeded');
    good = next;
  }, 60_000);

  it('gateway routes and queue event sources follow live only, while smoke answers the smoke header', async () => {
    // The worker writes down what it consumed in a folder of the test's: outside its sandbox, so none here.
    const up = await startUp(app.dir, { ports: 5, env: { PROMO_OUT: out, STAGECRAFT_SANDBOX: 'off' } });
    try {
      const next = await build([], 'live-only');
      // Smoke tests of this promotion go through the running up (its gateways, its alias sync).
      const paused = await json<Outcome>('promote');
      expect(paused.body.status, paused.stderr).toBe('awaiting-approval');
      const hello = async (alias?: string) => {
        const response = await fetch(
          `${up.urls['prod']}/hello`,
          alias ? { headers: { 'x-stagecraft-alias': alias } } : {},
        );
        return (await response.json()) as { release: string };
      };
      expect((await hello()).release).toBe(good);
      expect((await hello('smoke')).release).toBe(next);
      expect((await cli('send', 'jobs', '--env', 'prod', '--data', 'job-1')).code).toBe(0);
      const logFile = join(out, 'worker-prod.log');
      const line = await eventually(async () =>
        existsSync(logFile)
          ? readFileSync(logFile, 'utf8')
              .split('\n')
              .find((entry) => entry.endsWith(' job-1'))
          : undefined,
      );
      expect(line.split(' ')[1]).toBe(good);

      expect((await json<Outcome>('approve', 'prod')).body.status).toBe('succeeded');
      await eventually(async () => ((await hello()).release === next ? true : undefined), 3_000, 'live to move');
      expect((await cli('send', 'jobs', '--env', 'prod', '--data', 'job-2')).code).toBe(0);
      const second = await eventually(async () =>
        readFileSync(logFile, 'utf8')
          .split('\n')
          .find((entry) => entry.endsWith(' job-2')),
      );
      expect(second.split(' ')[1]).toBe(next);
      good = next;
    } finally {
      expect(await up.stop()).toBe(0);
    }
  }, 90_000);

  it('rollback points live back to the previous version, or to a named release, and records it', async () => {
    const before = await liveReleases();
    const back = await json<{ functions: { function: string; from: number; to: number; release: string }[] }>(
      'rollback',
      'prod',
      '--reason',
      'bad numbers',
    );
    expect(back.code, back.stderr).toBe(0);
    const after = await liveReleases();
    expect(after['prod']?.[0]).not.toBe(before['prod']?.[0]);
    const forward = await json<{ functions: { release: string }[] }>('rollback', 'prod', '--to', good);
    expect(forward.body.functions.every((fn) => fn.release === good)).toBe(true);
    expect(
      (await ledger()).filter((entry) => entry.kind === 'alias.moved' && entry.detail['reason'] === 'bad numbers'),
    ).toHaveLength(2);
    const bad = await cli('rollback', 'prod', '--to', '7');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/each function numbers its versions itself/);
    expect((await json<{ ok: boolean }>('doctor')).body.ok).toBe(true);
  }, 60_000);
});

describe('promotion: invalid input changes nothing', () => {
  const app = copyApp('promo');
  afterAll(() => app.remove());

  it('a config reference missing for a later environment stops the promotion before dev moves (exit 2)', async () => {
    app.write(
      'stagecraft.yml',
      app
        .read('stagecraft.yml')
        .replace(
          '    approval: manual\n',
          '    approval: manual\n    config: { API_TOKEN: "${env:PROMO_PROD_TOKEN}" }\n',
        ),
    );
    expect((await runCli(['build', '--dir', app.dir])).code).toBe(0);
    const before = (await runCli(['history', '--json', '--dir', app.dir])).json<LedgerJson>().entries.length;
    const refused = await runCli(['promote', '--dir', app.dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /\$\{env:PROMO_PROD_TOKEN\} has no value for environment prod \(environments\[prod\]\.config\.API_TOKEN, function api\)/,
    );
    expect((await runCli(['history', '--json', '--dir', app.dir])).json<LedgerJson>().entries).toHaveLength(before);
    const unknown = await runCli(['promote', '--to', 'qa', '--dir', app.dir]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no environment "qa" in promo[\s\S]*environments: dev, staging, prod/);
    const resume = await runCli(['promote', '--resume', '--dir', app.dir]);
    expect(resume.code).toBe(2);
    expect(resume.stderr).toMatch(/there is no interrupted promotion to resume/);
    const approve = await runCli(['approve', 'prod', '--dir', app.dir]);
    expect(approve.code).toBe(3); // a refusal, not invalid input (DESIGN §4)
    expect(approve.stderr).toMatch(/no promotion is waiting for an approval in prod/);
  }, 60_000);
});
