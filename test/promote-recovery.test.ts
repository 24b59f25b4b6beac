/**
 * Recovery from the exact moments a crash can leave behind, set up by editing the journal the
 * way a SIGKILL would leave it (the chaos test hits such moments at random; these hit each one
 * on purpose), plus what a settled or paused promotion means for approve and rollback.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';

interface StatusJson {
  environments: {
    name: string;
    functions: {
      function: string;
      live: { version: number; release: string } | null;
      smoke: { version: number; release: string } | null;
    }[];
  }[];
  promotions: { id: string; status: string }[];
}
interface LedgerJson {
  entries: { kind: string; detail: Record<string, unknown> }[];
}

function setup(manifestEdit: (text: string) => string = (text) => text) {
  const app = copyApp('promo');
  app.write(
    'stagecraft.yml',
    manifestEdit(
      app
        .read('stagecraft.yml')
        .replace(
          /smoke:[\s\S]*$/,
          'smoke:\n  - name: hello\n    invoke: api\n    event: { rawPath: /hello }\n    expect: { status: 200 }\n',
        ),
    ),
  );
  const cli = (args: string[], env: Record<string, string> = {}) => runCli([...args, '--dir', app.dir], { env });
  const build = async (mark: string): Promise<string> => {
    app.write(
      'src/api.mjs',
      app.read('src/api.mjs').replace(/const MARK = .*;/, `const MARK = ${JSON.stringify(mark)};`),
    );
    const built = await cli(['build', '--json']);
    expect(built.code, built.stderr).toBe(0);
    return built.json<{ release: string }>().release;
  };
  const status = async () => (await cli(['status', '--json'])).json<StatusJson>();
  const aliasesOf = async (env: string) =>
    (await status()).environments
      .find((candidate) => candidate.name === env)
      ?.functions.map((fn) => [fn.live?.release ?? '-', fn.smoke?.release ?? '-']);
  /** Rewrites the newest promotion's journal as a crash would have left it. */
  const crash = (
    edit: (state: { environments: Record<string, unknown>[]; refusal?: unknown }) => void,
    status = 'running',
  ) => {
    const db = new Database(join(app.dir, '.stagecraft', 'state.db'));
    const row = db.prepare('SELECT id, state_json FROM promotions ORDER BY seq DESC LIMIT 1').get() as {
      id: string;
      state_json: string;
    };
    const state = JSON.parse(row.state_json) as { environments: Record<string, unknown>[]; refusal?: unknown };
    edit(state);
    db.prepare('UPDATE promotions SET status = ?, state_json = ?, finished_at = NULL WHERE id = ?').run(
      status,
      JSON.stringify(state),
      row.id,
    );
    db.close();
    return row.id;
  };
  const ledger = async () => (await cli(['history', '--json'])).json<LedgerJson>().entries;
  return { app, cli, build, status, aliasesOf, crash, ledger };
}

describe('promotion recovery', () => {
  const apps: { remove(): void }[] = [];
  afterEach(() => {
    for (const app of apps.splice(0)) app.remove();
  });

  it('killed after smoke moved but before the journal said so: settling puts smoke back too', async () => {
    const t = setup();
    apps.push(t.app);
    const r1 = await t.build('one');
    expect((await t.cli(['promote', '--to', 'dev'])).code).toBe(0);
    const r2 = await t.build('two');
    expect((await t.cli(['promote', '--to', 'dev'])).code).toBe(0);
    expect((await t.cli(['rollback', 'dev', '--to', r1])).code).toBe(0);
    // Now dev: live r1, smoke r2 — as if p2 moved smoke and died before saving the step.
    t.crash((state) => {
      state.environments[0] = { ...state.environments[0], step: 'published' };
    });
    const next = await t.cli(['promote', '--release', r1, '--to', 'dev']);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/p2: interrupted before it finished; settled before a new promote of r1-/);
    expect(await t.aliasesOf('dev')).toEqual([
      [r1, r1],
      [r1, r1],
    ]);
    expect(r2).not.toBe(r1);
  }, 60_000);

  it('killed after its last step but before it said so: the promotion is recorded as succeeded, not undone', async () => {
    const t = setup();
    apps.push(t.app);
    const r1 = await t.build('one');
    expect((await t.cli(['promote', '--to', 'dev'])).code).toBe(0);
    const r2 = await t.build('two');
    expect((await t.cli(['promote', '--to', 'staging'])).code).toBe(0);
    const id = t.crash(() => undefined);
    expect((await t.cli(['promote', '--release', r1, '--to', 'dev'])).code).toBe(0);
    const entries = await t.ledger();
    expect(
      entries
        .filter((entry) => entry.detail['promotion'] === id)
        .map((entry) => entry.kind)
        .slice(-2),
    ).toEqual(['promotion.succeeded', 'promotion.succeeded']);
    expect(entries.some((entry) => entry.kind === 'promotion.failed' && entry.detail['promotion'] === id)).toBe(false);
    // Staging was never undone: r2 stays live there; dev went back to r1 by the new promotion.
    expect(await t.aliasesOf('staging')).toEqual([
      [r2, r2],
      [r2, r2],
    ]);
    expect(await t.aliasesOf('dev')).toEqual([
      [r1, r1],
      [r1, r1],
    ]);
  }, 60_000);

  it('--skip-soak --reason given when an interrupted promotion is resumed applies to it', async () => {
    const t = setup((text) => text.replace('  - name: dev\n', '  - name: dev\n    soak: 1h\n'));
    apps.push(t.app);
    await t.build('one');
    expect((await t.cli(['promote', '--to', 'dev'])).code).toBe(0);
    await t.build('two');
    expect((await t.cli(['promote', '--to', 'staging'])).code).toBe(3);
    // As if that run had been killed at staging's start instead of refused.
    t.crash((state) => {
      delete state.refusal;
    });
    const resumed = await t.cli(['promote', '--resume', '--skip-soak', '--reason', 'hotfix 7', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.json<{ status: string }>().status).toBe('succeeded');
    expect((await t.ledger()).find((entry) => entry.kind === 'soak.skipped')?.detail).toMatchObject({
      reason: 'hotfix 7',
    });
  }, 60_000);

  it("approve from a shell missing a later environment's ${env:} is exit 2 and opens nothing", async () => {
    const t = setup((text) =>
      text
        .replace(
          '  - name: prod\n    approval: manual\n',
          '  - name: prod\n    config: { TOKEN: "${env:PROMO_TOKEN}" }\n',
        )
        .replace('  - name: staging\n', '  - name: staging\n    approval: manual\n'),
    );
    apps.push(t.app);
    const r1 = await t.build('one');
    const paused = await t.cli(['promote'], { PROMO_TOKEN: 't' });
    expect(paused.code, paused.stderr).toBe(0);
    const before = (await t.ledger()).length;
    const approve = await t.cli(['approve', 'staging']);
    expect(approve.code).toBe(2);
    expect(approve.stderr).toMatch(/\$\{env:PROMO_TOKEN\} has no value for environment prod/);
    expect(await t.ledger()).toHaveLength(before);
    expect((await t.status()).promotions).toEqual([expect.objectContaining({ status: 'awaiting-approval' })]);
    const approved = await t.cli(['approve', 'staging'], { PROMO_TOKEN: 't' });
    expect(approved.code, approved.stderr).toBe(0);
    expect(await t.aliasesOf('prod')).toEqual([
      [r1, r1],
      [r1, r1],
    ]);
  }, 60_000);

  it('rollback supersedes a paused promotion and is refused (exit 3) while one is interrupted', async () => {
    const t = setup();
    apps.push(t.app);
    const r1 = await t.build('one');
    expect((await t.cli(['promote'])).code).toBe(0);
    expect((await t.cli(['approve', 'prod'])).code).toBe(0);
    await t.build('two');
    expect((await t.cli(['promote'])).code).toBe(0); // paused at prod
    const back = await t.cli(['rollback', 'staging']);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).toMatch(/superseded by `rollback staging` while it waited for an approval/);
    expect((await t.status()).promotions).toEqual([]);
    expect((await t.cli(['approve', 'prod'])).code).toBe(3);
    expect(await t.aliasesOf('staging')).toEqual([
      [r1, expect.any(String)],
      [r1, expect.any(String)],
    ]);

    await t.build('three');
    expect((await t.cli(['promote', '--to', 'dev'])).code).toBe(0);
    t.crash((state) => {
      state.environments[0] = { ...state.environments[0], step: 'ready' };
    });
    const refused = await t.cli(['rollback', 'dev']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/was interrupted and is not settled[\s\S]*promote --resume/);
  }, 90_000);
});
