/**
 * The dashboard of `stagecraft up` in Debian's Chromium, on examples/shop: the pending approval
 * at prod approved with a click, a CLI promotion in another process shown within a second,
 * Approve, Roll back (with a reason) and Resume by keyboard alone, refused POSTs that change
 * nothing, no serious axe-core violation on any view, and a screenshot of each view.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateStore, type LedgerEntry } from '../src/state/index.js';
import { screenshot, seriousViolations, startBrowser, tabTo, type Browser } from './helpers/browser.js';
import { CLI, copyApp, runCli } from './helpers/cli.js';
import { startUp, type RunningUp } from './helpers/up.js';
import { eventually } from './helpers/wait.js';

const APPROVER = 'Ada Approver';

describe('dashboard in a browser: examples/shop on up', () => {
  const app = copyApp('examples/shop', { insideRepo: true });
  const config = mkdtempSync(join(tmpdir(), 'stagecraft-config-'));
  const env = { XDG_CONFIG_HOME: config };
  let up: RunningUp;
  let browser: Browser;
  const releases: string[] = [];

  const cli = async (args: string[], expectCode = 0) => {
    const result = await runCli([...args, '--json', '--dir', app.dir], { env, timeoutMs: 120_000 });
    expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(expectCode);
    return result;
  };
  const build = async (marker: string) => {
    // A change the health answer shows, so the bundle (and the release) differs.
    app.write(
      'src/api.ts',
      app.read('src/api.ts').replace(/status: 'ok',( build: '[^']*',)?/, `status: 'ok', build: '${marker}',`),
    );
    releases.push((await cli(['build'])).json<{ release: string }>().release);
    return releases[releases.length - 1] as string;
  };
  const ledger = (query: Parameters<StateStore['ledger']['list']>[0] = {}): LedgerEntry[] => {
    const store = StateStore.open(join(app.dir, '.stagecraft', 'state.db'), { readonly: true });
    try {
      return store.ledger.list(query);
    } finally {
      store.close();
    }
  };
  const liveRelease = async (target: string, fn = 'api') => {
    const status = (await cli(['status'])).json<{
      environments: { name: string; functions: { function: string; live: { release: string } | null }[] }[];
    }>();
    return status.environments
      .find((candidate) => candidate.name === target)
      ?.functions.find((candidate) => candidate.function === fn)?.live?.release;
  };
  const page = () => browser.page;
  const cell = (target: string, fn = 'api') => page().locator(`td[data-env="${target}"][data-function="${fn}"]`);

  beforeAll(async () => {
    await build('r1');
    const paused = (await cli(['promote'])).json<{ status: string }>();
    expect(paused.status).toBe('awaiting-approval');
    up = await startUp(app.dir, { ports: 4, env: { ...env, STAGECRAFT_ACTOR: APPROVER } });
    browser = await startBrowser();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    if (up) expect(await up.stop()).toBe(0);
    app.remove();
    rmSync(config, { recursive: true, force: true });
  });

  it('shows the pending approval at prod; Approve moves prod live, the timeline names the approver, status agrees', async () => {
    await page().goto(up.login);
    expect(new URL(page().url()).pathname).toBe('/');
    const pending = page().locator('article[data-awaiting="prod"]');
    await pending.waitFor();
    expect(await pending.textContent()).toContain(releases[0]);
    expect(await pending.locator('.smoke li').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/passed:\s+health/)]),
    );
    expect(await cell('prod').textContent()).toContain('nothing live');
    await screenshot(page(), 'matrix-pending-approval');

    await page().getByRole('button', { name: 'Approve prod' }).click();
    await page().waitForURL(/\?done=/);
    expect(await page().locator('.notice').textContent()).toContain(`prod approved by ${APPROVER}`);
    expect(await cell('prod').textContent()).toContain(releases[0]);
    expect(await cell('prod').locator('.actor').textContent()).toBe(APPROVER);

    await page().getByRole('link', { name: 'Timeline' }).click();
    const promotion = page().locator('li#p1');
    expect(await promotion.textContent()).toContain(`approved by ${APPROVER}`);
    expect(await promotion.locator('h2').textContent()).toContain('succeeded');
    expect(await liveRelease('prod')).toBe(releases[0]);
    const approved = ledger({ kind: 'promotion.approved' });
    expect(approved.map((entry) => [entry.actor, entry.detail['approvedBy']])).toEqual([[APPROVER, APPROVER]]);
  });

  it('shows a promotion run by the CLI in another process within one second, without a reload', async () => {
    await page().goto(`${up.dashboard}/`);
    await page().waitForFunction('document.body.dataset.mark !== undefined');
    const second = await build('r2');
    await page().evaluate(`(() => {
      const check = () => {
        const cell = document.querySelector('td[data-env="staging"][data-function="api"] dd.live');
        if (window.seenAt === undefined && cell && cell.textContent.includes(${JSON.stringify(second)})) window.seenAt = Date.now();
      };
      new MutationObserver(check).observe(document.body, { subtree: true, childList: true, characterData: true });
      check();
    })()`);
    expect(
      await page().evaluate('window.seenAt'),
      `${second} not yet in staging: ${await cell('staging').textContent()}`,
    ).toBeUndefined();
    const paused = (await cli(['promote'])).json<{ status: string }>();
    expect(paused.status).toBe('awaiting-approval');
    await page().waitForFunction('window.seenAt !== undefined', undefined, { timeout: 10_000 });
    const seenAt = Number(await page().evaluate('window.seenAt'));
    const moved = ledger({ environment: 'staging', function: 'api', kind: 'alias.moved' })
      .filter((entry) => entry.alias === 'live' && entry.releaseId === second)
      .at(-1);
    expect(moved, 'the ledger records staging moving to the new release').toBeDefined();
    const delay = seenAt - Date.parse(moved?.at ?? '');
    expect(delay, `shown ${delay} ms after it was recorded`).toBeGreaterThanOrEqual(0);
    expect(delay).toBeLessThanOrEqual(1000);
    console.info(`dashboard: staging's new live shown ${delay} ms after the ledger recorded it`);
    // The same update brought the new approval waiting at prod.
    await page().locator('article[data-awaiting="prod"]').waitFor({ timeout: 5000 });
    expect(await page().locator('article[data-awaiting="prod"]').textContent()).toContain(second);
  });

  it('approves by keyboard alone', async () => {
    await page().goto(`${up.dashboard}/`);
    await tabTo(page(), 'the Approve button', (focused) => focused.id === 'approve-prod');
    await page().keyboard.press('Enter');
    await page().waitForURL(/\?done=/);
    expect(await page().locator('.notice').textContent()).toContain(`prod approved by ${APPROVER}`);
    expect(await liveRelease('prod')).toBe(releases[1]);
  });

  it('rolls staging back by keyboard with a reason; history shows it with that reason', async () => {
    await page().goto(`${up.dashboard}/`);
    await tabTo(page(), 'the reason field of staging', (focused) => focused.id === 'reason-staging');
    await page().keyboard.type('r2 breaks checkout');
    await page().keyboard.press('Tab');
    expect(await page().evaluate('document.activeElement.id')).toBe('rollback-staging');
    await page().keyboard.press('Enter');
    await page().waitForURL(/\?done=/);
    expect(await page().locator('.notice').textContent()).toContain(`staging: live rolled back by ${APPROVER}`);
    expect(await cell('staging').textContent()).toContain(releases[0]);
    expect(await cell('staging').locator('.differs').textContent()).toContain('differs from dev');
    const history = (await cli(['history', '--env', 'staging'])).json<{ entries: LedgerEntry[] }>();
    const rollbacks = history.entries.filter((entry) => entry.operation === 'rollback');
    expect(rollbacks.map((entry) => [entry.function, entry.actor, entry.detail['reason']])).toEqual([
      ['api', APPROVER, 'r2 breaks checkout'],
      ['report', APPROVER, 'r2 breaks checkout'],
      ['worker', APPROVER, 'r2 breaks checkout'],
    ]);
    const text = (await runCli(['history', '--env', 'staging', '--dir', app.dir], { env })).stdout;
    expect(text).toMatch(/rollback: r2 breaks checkout/);
    await page().goto(`${up.dashboard}/timeline?env=staging`);
    expect(await page().locator('li.rollback').first().textContent()).toContain('r2 breaks checkout');
  });

  it('resumes an interrupted promotion by keyboard alone', async () => {
    const third = await build('r3');
    const child = spawn(process.execPath, [CLI, 'promote', '--dir', app.dir], {
      env: { ...process.env, ...env, NO_COLOR: '1', STAGECRAFT_ACTOR: 'test-runner' },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // Killed once dev's smoke tests passed: the promotion is left `running`, its process gone.
    await eventually(
      async () =>
        ledger({ environment: 'dev', kind: 'smoke.passed' }).find(
          (entry) => entry.releaseId === third || entry.detail['promotion'] === 'p3',
        ) ?? undefined,
      60_000,
      'dev smoke of the third release',
    );
    child.kill('SIGKILL');
    await exited;
    await page().goto(`${up.dashboard}/`);
    await page().locator('#resume-p3').waitFor();
    await tabTo(page(), 'the Resume button', (focused) => focused.id === 'resume-p3');
    await page().keyboard.press('Enter');
    await page().waitForURL(/\?done=/, { timeout: 60_000 });
    expect(await page().locator('.notice').textContent()).toMatch(
      new RegExp(`resumed by ${APPROVER}; p3 \\(${third}\\): awaiting-approval`),
    );
    expect(await liveRelease('staging')).toBe(third);
  }, 90_000);

  it('refuses a POST without the token, from a foreign origin or to a foreign host, and changes nothing', async () => {
    const before = ledger().length;
    const token = new URL(up.login).searchParams.get('token') ?? '';
    const post = (headers: Record<string, string>) =>
      fetch(`${up.dashboard}/actions/approve`, {
        method: 'POST',
        redirect: 'manual',
        body: 'env=prod',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      });
    const origin = new URL(up.dashboard).origin;
    const noToken = await post({ origin });
    expect(noToken.status).toBe(401);
    expect(await noToken.text()).toContain('needs the dashboard token');
    const foreign = await post({ origin: 'http://evil.example', cookie: `stagecraft_dashboard=${token}` });
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toContain('http://evil.example');
    const crossSite = await post({ origin, cookie: `stagecraft_dashboard=${token}`, 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    // fetch cannot set Host: a page on a rebound DNS name sends its own name there.
    const rebound = await new Promise<number>((resolve, reject) => {
      const url = new URL(up.dashboard);
      const headers = {
        host: `rebind.example:${url.port}`,
        origin: `http://rebind.example:${url.port}`,
        cookie: `stagecraft_dashboard=${token}`,
        'content-type': 'application/x-www-form-urlencoded',
      };
      const sent = request(
        { host: url.hostname, port: url.port, path: '/actions/approve', method: 'POST', headers },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      sent.on('error', reject);
      sent.end('env=prod');
    });
    expect(rebound).toBe(421);
    const wrongToken = await post({ origin, cookie: 'stagecraft_dashboard=0000' });
    expect(wrongToken.status).toBe(401);
    expect(ledger().length).toBe(before);
    expect(
      (await cli(['status'])).json<{ promotions: { status: string; environment: string }[] }>().promotions,
    ).toMatchObject([{ status: 'awaiting-approval', environment: 'prod' }]);
  });

  it('answers a refused action with a readable message', async () => {
    await page().goto(`${up.dashboard}/`);
    await page().locator('#reason-dev').fill('nothing earlier');
    // dev has moved twice since r1: back to r2's predecessor works; a second environment's first deploy would not.
    await page().evaluate(`document.querySelector('form.action input[name=env][value=dev]').value = 'qa'`);
    await page().locator('#rollback-dev').click();
    expect(await page().locator('.problem').textContent()).toContain('no environment "qa" in shop');
    expect(await page().locator('.problem').textContent()).toContain('Hint: environments: dev, staging, prod');
    expect(await page().locator('.problem').textContent()).toContain('ENVIRONMENT_UNKNOWN');
    await screenshot(page(), 'problem');
  });

  it('has no serious or critical axe-core violation on any view, and a screenshot of each', async () => {
    const views = {
      matrix: '/',
      timeline: '/timeline',
      'timeline-staging': '/timeline?env=staging&function=api',
      release: `/releases/${releases[0]}`,
      function: '/functions/api?env=dev',
    };
    for (const [name, path] of Object.entries(views)) {
      await page().goto(`${up.dashboard}${path}`);
      await page().waitForFunction('document.body.dataset.mark !== undefined');
      expect(await seriousViolations(page()), name).toEqual([]);
      await screenshot(page(), name);
    }
    // Small views of the matrix and the timeline, as the README shows them (docs/*.png are copies).
    await page().setViewportSize({ width: 1000, height: 620 });
    for (const [name, path] of [
      ['readme-matrix', '/'],
      ['readme-timeline', '/timeline'],
    ] as const) {
      await page().goto(`${up.dashboard}${path}`);
      await screenshot(page(), name, { fullPage: false });
    }
    await page().setViewportSize({ width: 1280, height: 900 });
    await page().goto(`${up.dashboard}/functions/api?env=dev`);
    await page().locator('.uplot canvas').waitFor();
  }, 60_000);
});
