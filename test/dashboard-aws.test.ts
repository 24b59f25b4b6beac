/**
 * `stagecraft dashboard` on the aws provider against a real moto_server, with the shared state
 * in DynamoDB: the matrix read from Lambda through the Provider, the pending approval at prod
 * approved in Chromium (recorded in the shared ledger under the dashboard's actor, as `history`
 * shows), and a CLI promotion from another process shown without a reload.
 */
import { GetAliasCommand } from '@aws-sdk/client-lambda';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../src/state/index.js';
import { screenshot, seriousViolations, startBrowser, type Browser } from './helpers/browser.js';
import { CLI, copyApp, runCli } from './helpers/cli.js';
import { startMotoSession, type MotoSession } from './helpers/moto.js';

const HEALTHY = JSON.stringify({ statusCode: 200, body: JSON.stringify({ status: 'ok' }) });
const APPROVER = 'Ada Approver';

describe('stagecraft dashboard on the aws provider (moto)', () => {
  const app = copyApp('examples/shop', { insideRepo: true });
  app.write(
    'stagecraft.yml',
    app
      .read('stagecraft.yml')
      .replace(/^runtime:/m, 'provider: aws\nstate: { backend: dynamodb, table: shop-state }\nruntime:'),
  );
  const config = mkdtempSync(join(tmpdir(), 'stagecraft-config-'));
  let session: MotoSession;
  let browser: Browser;
  let dashboard: ChildProcess;
  let url = '';
  let login = '';
  let first = '';

  const cli = async (args: string[], expectCode = 0) => {
    const result = await runCli([...args, '--json', '--dir', app.dir], {
      env: { ...session.moto.env, XDG_CONFIG_HOME: config },
      timeoutMs: 120_000,
    });
    expect(result.code, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(expectCode);
    return result;
  };

  beforeAll(async () => {
    session = await startMotoSession();
    first = (await cli(['build'])).json<{ release: string }>().release;
    await session.moto.queueLambdaResponses(Array.from({ length: 6 }, () => HEALTHY));
    expect((await cli(['promote'])).json<{ status: string }>().status).toBe('awaiting-approval');
    dashboard = spawn(process.execPath, [CLI, 'dashboard', '--port', '0', '--json', '--dir', app.dir], {
      env: { ...process.env, ...session.moto.env, XDG_CONFIG_HOME: config, STAGECRAFT_ACTOR: APPROVER, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    dashboard.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const ready = await new Promise<{ dashboard: string; login: string }>((resolve, reject) => {
      let stdout = '';
      dashboard.stdout?.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        try {
          resolve(JSON.parse(stdout) as { dashboard: string; login: string });
        } catch {
          // not the whole document yet
        }
      });
      dashboard.once('exit', (code) => reject(new Error(`dashboard exited with ${code}: ${stdout}\n${stderr}`)));
    });
    ({ dashboard: url, login } = ready);
    browser = await startBrowser();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    if (dashboard?.exitCode === null) {
      const exited = new Promise((resolve) => dashboard.once('exit', resolve));
      process.kill(dashboard.pid ?? -1, 'SIGTERM');
      await exited;
    }
    await session?.stop();
    app.remove();
    rmSync(config, { recursive: true, force: true });
  });

  it('binds 127.0.0.1 and shows what Lambda runs, with the approval waiting at prod', async () => {
    expect(new URL(url).hostname).toBe('127.0.0.1');
    const page = browser.page;
    await page.goto(login);
    await page.locator('article[data-awaiting="prod"]').waitFor();
    for (const env of ['dev', 'staging'])
      expect(await page.locator(`td[data-env="${env}"][data-function="api"] dd.live`).textContent()).toContain(first);
    expect(await page.locator('td[data-env="prod"][data-function="api"]').textContent()).toContain('nothing live');
    expect(await page.locator('.brand').textContent()).toContain('(aws)');
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'aws-matrix');
  });

  it('approves prod from the page: Lambda moves live, the shared ledger names the approver', async () => {
    const page = browser.page;
    // prod's smoke tests run again right before its live moves.
    await session.moto.queueLambdaResponses([HEALTHY, HEALTHY]);
    await page.getByRole('button', { name: 'Approve prod' }).click();
    await page.waitForURL(/\?done=/, { timeout: 60_000 });
    expect(await page.locator('.notice').textContent()).toContain(`prod approved by ${APPROVER}`);
    const alias = await session.lambda.send(new GetAliasCommand({ FunctionName: 'shop-api-prod', Name: 'live' }));
    expect(alias.FunctionVersion).toBe('1');
    const history = (await cli(['history'])).json<{ entries: LedgerEntry[] }>().entries;
    expect(history.filter((entry) => entry.kind === 'promotion.approved').map((entry) => entry.actor)).toEqual([
      APPROVER,
    ]);
    await page.goto(`${url}/timeline`);
    expect(await page.locator('li#p1').textContent()).toContain(`approved by ${APPROVER}`);
  }, 90_000);

  it('shows a promotion the CLI runs in another process without a reload', async () => {
    const page = browser.page;
    await page.goto(`${url}/`);
    await page.waitForFunction('document.body.dataset.mark !== undefined');
    app.write('src/api.ts', app.read('src/api.ts').replace("status: 'ok',", "status: 'ok', revision: 2,"));
    const second = (await cli(['build'])).json<{ release: string }>().release;
    await session.moto.queueLambdaResponses([HEALTHY, HEALTHY]);
    expect((await cli(['promote', '--to', 'dev'])).json<{ status: string }>().status).toBe('succeeded');
    const dev = page.locator('td[data-env="dev"][data-function="api"] dd.live');
    await page.waitForFunction(
      (release) => {
        const cell = (
          globalThis as unknown as {
            document: { querySelector(selector: string): { textContent: string | null } | null };
          }
        ).document.querySelector('td[data-env="dev"][data-function="api"] dd.live');
        return cell?.textContent?.includes(release) ?? false;
      },
      second,
      { timeout: 10_000 },
    );
    expect(await dev.textContent()).toContain(second);
    expect(await page.locator('td[data-env="staging"][data-function="api"] .differs').textContent()).toContain(
      'differs from dev',
    );
  }, 90_000);
});
