/**
 * Crash safety (DESIGN §2, §5): fifty promotions, each killed with SIGKILL at a random moment,
 * then resumed. After each, `doctor` must find every invariant holding — every alias on an
 * existing version, every alias change with its ledger record, nothing left half-done — and
 * each environment must run one release. Releases alternate between two good ones and one that
 * fails its smoke test in staging, so kills land in forward steps and in rollbacks alike.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StateStore } from '../src/state/index.js';
import { CLI, copyApp, runCli } from './helpers/cli.js';

const ROUNDS = 50;
const SHIFT_ROUNDS = 12;

interface DoctorJson {
  ok: boolean;
  checks: { name: string; status: string; message: string; details?: string[] }[];
}
interface StatusJson {
  environments: { name: string; functions: { live: { release: string } | null }[] }[];
  promotions: unknown[];
}

describe('promotion chaos: SIGKILL at random moments, then resume', () => {
  const app = copyApp('promo');
  // No manual gate (the loop must run unattended) and one quick smoke test.
  app.write(
    'stagecraft.yml',
    app
      .read('stagecraft.yml')
      .replace('    approval: manual\n', '')
      .replace(
        /smoke:[\s\S]*$/,
        'smoke:\n  - name: hello-invoke\n    invoke: api\n    event: { rawPath: /hello }\n    expect: { status: 200 }\n',
      ),
  );
  afterAll(() => app.remove());

  const cli = (...args: string[]) => runCli([...args, '--dir', app.dir]);
  const build = async (broken: string[], mark: string): Promise<string> => {
    app.write(
      'src/api.mjs',
      app
        .read('src/api.mjs')
        .replace(/const BROKEN_IN = .*;/, `const BROKEN_IN = ${JSON.stringify(broken)};`)
        .replace(/const MARK = .*;/, `const MARK = ${JSON.stringify(mark)};`),
    );
    const built = await cli('build', '--json');
    expect(built.code, built.stderr).toBe(0);
    return built.json<{ release: string }>().release;
  };

  /** Starts `promote --release R` and kills it with SIGKILL after `delayMs` (if it is still running). */
  const promoteAndKill = (release: string, delayMs: number): Promise<{ killed: boolean; code: number | null }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, 'promote', '--release', release, '--dir', app.dir], {
        stdio: 'ignore',
        env: { ...process.env, STAGECRAFT_ACTOR: 'chaos' },
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ killed: signal === 'SIGKILL', code });
      });
    });

  it(`${ROUNDS} promotions killed at random moments all end resumed, with every invariant holding`, async () => {
    const releases = [await build([], 'a'), await build([], 'b'), await build(['staging'], 'broken')];
    // Measure one undisturbed promotion so that kills are spread over its whole length.
    const started = Date.now();
    const first = await cli('promote', '--release', releases[0] ?? '');
    expect(first.code, first.stderr).toBe(0);
    const span = Math.max(600, Date.now() - started);
    const startedUp = Date.now();
    expect((await cli('status')).code).toBe(0);
    const startup = Math.min(span / 2, Date.now() - startedUp);

    let interrupted = 0;
    let rolledBack = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const release = releases[(round + 1) % releases.length] ?? '';
      // Most kills land after start-up (a kill before the lock is taken tests little), a few before it.
      const delay = Math.random() < 0.1 ? Math.random() * startup : startup + Math.random() * (span - startup);
      const { killed } = await promoteAndKill(release, Math.floor(delay));
      const resumed = await cli('promote', '--resume', '--json');
      // 0: finished; 1: the broken release failed and was rolled back; 2: nothing was left to resume.
      expect([0, 1, 2], `round ${round}: ${resumed.stderr}`).toContain(resumed.code);
      if (resumed.code !== 2) {
        interrupted++;
        if (resumed.json<{ status: string }>().status === 'failed') rolledBack++;
      } else {
        expect(resumed.stderr).toMatch(/no interrupted promotion to resume/);
      }
      const doctor = await cli('doctor', '--json');
      const report = doctor.json<DoctorJson>();
      const broken = report.checks.filter((check) => check.status === 'fail');
      expect(broken, `round ${round} (killed: ${killed}): ${JSON.stringify(broken, null, 2)}`).toEqual([]);
      expect(report.checks.find((check) => check.name === 'environments')?.status, `round ${round}`).toBe('ok');
      expect(doctor.code).toBe(0);
      const status = (await cli('status', '--json')).json<StatusJson>();
      expect(status.promotions, `round ${round}`).toEqual([]);
    }
    const ledger = (await cli('history', '--json')).json<{ entries: { kind: string }[] }>().entries;
    const takeovers = ledger.filter((entry) => entry.kind === 'lock.taken-over').length;
    console.log(
      `chaos: ${ROUNDS} promotions killed at random within ${span} ms; ${interrupted} interrupted mid-way and resumed (${rolledBack} of them rolled back), ${takeovers} dead locks taken over`,
    );
    // The test means something only if many kills landed inside a promotion.
    expect(interrupted).toBeGreaterThanOrEqual(ROUNDS / 4);
    expect(takeovers).toBeGreaterThan(0);
  }, 600_000);
});

describe('shift chaos: SIGKILL at any point of a canary or linear shift, then resume', () => {
  const app = copyApp('promo');
  // Staging shifts by canary, prod by linear steps, each short; one quick smoke test; no gate.
  app.write(
    'stagecraft.yml',
    app
      .read('stagecraft.yml')
      .replace('  - name: staging\n', '  - name: staging\n    deployment: canary 20% 1s\n')
      .replace('    approval: manual\n', '    deployment: linear 30% every 1s\n    alarms: [{ errorRate: "> 50%" }]\n')
      .replace(
        /smoke:[\s\S]*$/,
        'smoke:\n  - name: hello-invoke\n    invoke: api\n    event: { rawPath: /hello }\n    expect: { status: 200 }\n',
      ),
  );
  afterAll(() => app.remove());

  const cli = (...args: string[]) => runCli([...args, '--dir', app.dir]);
  const build = async (mark: string): Promise<string> => {
    app.write(
      'src/api.mjs',
      app.read('src/api.mjs').replace(/const MARK = .*;/, `const MARK = ${JSON.stringify(mark)};`),
    );
    const built = await cli('build', '--json');
    expect(built.code, built.stderr).toBe(0);
    return built.json<{ release: string }>().release;
  };
  const killAfter = (release: string, delayMs: number): Promise<boolean> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, 'promote', '--release', release, '--dir', app.dir], {
        stdio: 'ignore',
        env: { ...process.env, STAGECRAFT_ACTOR: 'chaos' },
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      child.on('exit', (_code, signal) => {
        clearTimeout(timer);
        resolve(signal === 'SIGKILL');
      });
    });

  it(`${SHIFT_ROUNDS} shifting promotions killed at random moments end consistent after --resume, doctor clean`, async () => {
    const releases = [await build('a'), await build('b')];
    const first = await cli('promote', '--release', releases[0] ?? '');
    expect(first.code, first.stderr).toBe(0);
    // One undisturbed promotion with both shifts measures the span the kills are spread over.
    const started = Date.now();
    const second = await cli('promote', '--release', releases[1] ?? '');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/prod: linear 30% every 1s, step 3\/3/);
    const span = Date.now() - started;
    let killedInShift = 0;
    for (let round = 0; round < SHIFT_ROUNDS; round++) {
      const release = releases[round % releases.length] ?? '';
      const killed = await killAfter(release, Math.floor(Math.random() * span));
      const journal = StateStore.open(join(app.dir, '.stagecraft', 'state.db'));
      const open = journal.promotions.unfinished<{ environments: { step: string }[] }>();
      if (open.some((record) => record.state.environments.some((env) => env.step === 'shifting'))) killedInShift++;
      journal.close();
      const resumed = await cli('promote', '--resume', '--json');
      expect([0, 1, 2], `round ${round} (killed: ${killed}): ${resumed.stderr}`).toContain(resumed.code);
      const doctor = await cli('doctor', '--json');
      const broken = doctor.json<DoctorJson>().checks.filter((check) => check.status === 'fail');
      expect(broken, `round ${round}: ${JSON.stringify(broken, null, 2)}`).toEqual([]);
      const store = StateStore.open(join(app.dir, '.stagecraft', 'state.db'));
      const splits = store.control.listAliases().filter((alias) => alias.extra !== undefined);
      store.close();
      expect(splits, `round ${round}: no split left behind`).toEqual([]);
      expect((await cli('status', '--json')).json<StatusJson>().promotions).toEqual([]);
    }
    console.log(
      `shift chaos: ${SHIFT_ROUNDS} promotions killed within ${span} ms; ${killedInShift} killed mid-shift and resumed`,
    );
    expect(killedInShift).toBeGreaterThanOrEqual(SHIFT_ROUNDS / 4);
  }, 900_000);
});
