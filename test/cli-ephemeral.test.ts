/**
 * Environments per developer and branch on the local provider, through the real CLI on
 * examples/shop: two developers' environments side by side on `up` (each its own gateway port
 * after the chain's, its own table data, its own config), listed by `status` with owner, branch,
 * created and expires; `destroy` of one leaves the other serving; `gc` removes only the expired
 * one (made with a ttl already over, no waiting on the clock); promotions never touch them.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from './helpers/wait.js';
import { copyApp, runCli } from './helpers/cli.js';
import { startUp, type RunningUp } from './helpers/up.js';

interface StatusJson {
  environments: {
    name: string;
    ephemeral?: { owner: string; branch: string; from: string; createdAt: string; expiresAt: string };
    functions: { function: string; instance: string; live: { sha256: string } | null }[];
  }[];
}
interface LedgerJson {
  entries: { kind: string; environment: string | null; actor: string; detail: Record<string, unknown> }[];
}

const ALICE = 'dev-alice-login';
const BOB = 'dev-bob-search';

describe('ephemeral environments (local)', () => {
  const app = copyApp('examples/shop', { insideRepo: true });
  app.write('stagecraft.yml', `${app.read('stagecraft.yml')}\nephemeral: { from: dev, ttl: 72h }\n`);
  let up: RunningUp | undefined;
  afterAll(async () => {
    await up?.stop();
    app.remove();
  });
  const cli = async (args: string[], code = 0) => {
    const result = await runCli([...args, '--json', '--dir', app.dir]);
    expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(code);
    return result;
  };
  const status = async () => (await cli(['status'])).json<StatusJson>();
  const get = async (url: string) => (await fetch(url)).json() as Promise<Record<string, unknown>>;

  it("deploys two developers' environments beside the chain and lists them with owner, branch, created and expires", async () => {
    await cli(['build']);
    await cli(['deploy', 'dev']);
    await cli(['deploy', '--ephemeral', '--name', 'alice/login']);
    await cli(['deploy', '--ephemeral', '--name', 'bob/search']);
    const listed = await status();
    expect(listed.environments.map((env) => env.name)).toEqual(['dev', 'staging', 'prod', ALICE, BOB]);
    const alice = listed.environments.find((env) => env.name === ALICE);
    expect(alice?.ephemeral).toMatchObject({ owner: 'alice', branch: 'login', from: 'dev' });
    expect(Date.parse(alice?.ephemeral?.expiresAt ?? '') - Date.parse(alice?.ephemeral?.createdAt ?? '')).toBe(
      72 * 3_600_000,
    );
    expect(alice?.functions.map((fn) => fn.instance)).toEqual([
      'shop-api-dev-alice-login',
      'shop-report-dev-alice-login',
      'shop-worker-dev-alice-login',
    ]);
    // Same release, same code as dev.
    const dev = listed.environments.find((env) => env.name === 'dev');
    expect(alice?.functions.map((fn) => fn.live?.sha256)).toEqual(dev?.functions.map((fn) => fn.live?.sha256));
    const created = (await cli(['history', '--env', ALICE]))
      .json<LedgerJson>()
      .entries.find((entry) => entry.kind === 'environment.created');
    expect(created?.detail).toMatchObject({ owner: 'alice', branch: 'login', from: 'dev' });
  });

  it('refuses a --name that is not who/branch with exit 2 and records nothing', async () => {
    const bad = await cli(['deploy', '--ephemeral', '--name', 'alice'], 2);
    expect(bad.stderr).toContain('is not <who>/<branch>');
    expect((await status()).environments).toHaveLength(5);
  });

  it("serves both on up, each on its own port after the chain's, with its own data and config", async () => {
    up = await startUp(app.dir, { ports: 8 });
    const base = Number(new URL(up.dashboard).port);
    expect(Object.keys(up.urls)).toEqual(['dev', 'staging', 'prod', ALICE, BOB]);
    expect(Number(new URL(up.urls[ALICE] ?? '').port)).toBe(base + 4);
    expect(Number(new URL(up.urls[BOB] ?? '').port)).toBe(base + 5);
    expect(await get(`${up.urls[ALICE]}/health`)).toMatchObject({ status: 'ok', environment: ALICE });
    expect(await get(`${up.urls[BOB]}/health`)).toMatchObject({ status: 'ok', environment: BOB });

    const order = { id: 'a-1', item: 'tea', quantity: 2 };
    const posted = await fetch(`${up.urls[ALICE]}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(order),
    });
    // The API puts the order on alice's own queue; her worker writes it to her own table.
    expect(posted.status).toBe(202);
    // Each environment's own smoke order (smoke-1) is in its table too; a-1 only in alice's.
    const ids = async (url: string | undefined) =>
      ((await get(`${url}/orders`))['orders'] as Array<{ id: string }>).map((stored) => stored.id);
    const aliceUrl = up.urls[ALICE];
    await eventually(
      async () => ((await ids(aliceUrl)).includes('a-1') ? true : undefined),
      30_000,
      "a-1 in alice's table",
    );
    expect(await ids(up.urls[BOB])).not.toContain('a-1');
    expect(await ids(up.urls.dev)).not.toContain('a-1');
    await up.stop();
    up = undefined;
  });

  it("destroys one developer's environment and leaves the other and the chain untouched", async () => {
    // An older log file, as the sink leaves once a file reaches its size limit: it goes too.
    const logs = join(app.dir, '.stagecraft', 'logs');
    mkdirSync(logs, { recursive: true });
    writeFileSync(join(logs, 'shop-api-dev-alice-login.log.1'), '2026-01-01T00:00:00.000Z\t1\tr\tolder\n');
    expect(existsSync(join(logs, 'shop-api-dev-alice-login.log'))).toBe(true); // alice's api answered above
    const destroyed = (await cli(['destroy', ALICE])).json<{ removed: string[] }>();
    expect(destroyed.removed.join('\n')).toContain('function shop-api-dev-alice-login');
    expect(existsSync(join(logs, 'shop-api-dev-alice-login.log.1'))).toBe(false);
    expect(existsSync(join(logs, 'shop-api-dev-alice-login.log'))).toBe(false);
    expect(existsSync(join(app.dir, '.stagecraft', 'tables', ALICE))).toBe(false);
    expect(existsSync(join(app.dir, '.stagecraft', 'tables', BOB))).toBe(true);
    const after = await status();
    expect(after.environments.map((env) => env.name)).toEqual(['dev', 'staging', 'prod', BOB]);
    expect(after.environments.find((env) => env.name === BOB)?.functions.every((fn) => fn.live !== null)).toBe(true);
    const record = (await cli(['history', '--env', ALICE])).json<LedgerJson>().entries.at(-1);
    expect(record).toMatchObject({ kind: 'environment.destroyed', actor: 'test-runner' });
    // Invoking what is gone fails; bob's still answers.
    await cli([
      'invoke',
      'api',
      '--env',
      BOB,
      '--data',
      JSON.stringify({ rawPath: '/health', requestContext: { http: { method: 'GET' } } }),
    ]);
  });

  it('refuses to destroy a chain environment without --force and a confirmation (exit 3), and does with --force --yes', async () => {
    const refused = await cli(['destroy', 'staging'], 3);
    expect(refused.stderr).toContain('needs --force and a confirmation');
    await cli(['destroy', 'staging', '--force'], 3);
    await cli(['destroy', 'staging', '--force', '--yes']);
  });

  it('gc destroys only the expired ones; --dry-run only lists them', async () => {
    await cli(['deploy', '--ephemeral', '--name', 'carol/old', '--ttl', '1ms']);
    const dry = (await cli(['gc', '--dry-run'])).json<{ expired: { name: string }[]; kept: { name: string }[] }>();
    expect(dry.expired.map((env) => env.name)).toEqual(['dev-carol-old']);
    expect(dry.kept.map((env) => env.name)).toEqual([BOB]);
    expect((await status()).environments.map((env) => env.name)).toContain('dev-carol-old');
    await cli(['gc']);
    expect((await status()).environments.map((env) => env.name)).toEqual(['dev', 'staging', 'prod', BOB]);
  });

  it('a promotion of the chain never touches an ephemeral environment', async () => {
    await cli(['promote', '--to', 'staging']);
    const moves = (await cli(['history', '--env', BOB]))
      .json<LedgerJson>()
      .entries.filter((entry) => entry.kind === 'alias.moved');
    const before = moves.length;
    await cli(['promote', '--to', 'staging']);
    expect(
      (await cli(['history', '--env', BOB])).json<LedgerJson>().entries.filter((entry) => entry.kind === 'alias.moved'),
    ).toHaveLength(before);
  });
});
