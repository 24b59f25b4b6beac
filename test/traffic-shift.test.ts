/**
 * Traffic shifting through the real CLI under load: `up` serves the app while autocannon drives
 * requests and `promote` shifts `live` by canary or linear steps, watching the error rate of the
 * new version in the runtime's metrics. A release that fails 30 % of its requests is rolled back
 * during a 10 % canary; good releases complete canary and linear; a 30 % split holds over 10,000
 * requests; Ctrl-C during a shift rolls back.
 */
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateStore } from '../src/state/index.js';
import { CLI, copyApp, runCli } from './helpers/cli.js';
import { startUp, type RunningUp } from './helpers/up.js';
import { eventually } from './helpers/wait.js';

interface Load {
  stop(): Promise<{ total: number; failed: number }>;
}

/** Requests at /hello until stopped (or `amount` of them), counting answers by status. */
function load(url: string, options: { amount?: number } = {}): Load & { done: Promise<void> } {
  const counts = { total: 0, failed: 0 };
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const instance = autocannon(
    { url: `${url}/hello`, connections: 6, ...(options.amount ? { amount: options.amount } : { duration: 600 }) },
    () => finish(),
  );
  instance.on('response', (_client: unknown, statusCode: number) => {
    counts.total++;
    if (statusCode !== 200) counts.failed++;
  });
  return {
    done,
    stop: async () => {
      instance.stop();
      await done;
      return counts;
    },
  };
}

describe('traffic shifting under load through up', { timeout: 600_000 }, () => {
  const app = copyApp('traffic');
  let up: RunningUp;
  const store = () => StateStore.open(join(app.dir, '.stagecraft', 'state.db'));
  const release = async (failShare: number, marker: string, deployment?: string) => {
    app.write(
      'src/api.mjs',
      app.read('src/api.mjs').replace(/const FAIL_SHARE = [^;]+;/, `const FAIL_SHARE = ${failShare}; // ${marker}`),
    );
    if (deployment)
      app.write('stagecraft.yml', app.read('stagecraft.yml').replace(/deployment: .*/, `deployment: ${deployment}`));
    const built = await runCli(['build', '--json', '--dir', app.dir]);
    expect(built.code, built.stderr).toBe(0);
  };
  const live = () => {
    const db = store();
    try {
      return db.control.getAlias('traffic-api-prod', 'live');
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    await release(0, 'v1');
    const first = await runCli(['promote', '--json', '--dir', app.dir]);
    expect(first.code, first.stderr).toBe(0);
    up = await startUp(app.dir, { ports: 3 });
  }, 120_000);
  afterAll(async () => {
    if (up) expect(await up.stop()).toBe(0);
    app.remove();
  });

  it('a release failing 30 % is rolled back during its 10 % canary, with under 5 % of all requests failed', async () => {
    await release(0.3, 'bad');
    const traffic = load(up.urls['prod'] ?? '');
    const promoted = await runCli(['promote', '--json', '--dir', app.dir], { timeoutMs: 300_000 });
    const counts = await traffic.stop();
    const outcome = promoted.json<{
      status: string;
      failure: { reason: string; breach: { metric: string; value: number; invocations: number; windowMs: number } };
    }>();
    expect(promoted.code, promoted.stderr).toBe(1);
    expect(outcome.failure.breach).toMatchObject({ metric: 'errorRate', windowMs: 30_000 });
    expect(outcome.failure.breach.value).toBeGreaterThan(5);
    expect(outcome.failure.breach.invocations).toBeGreaterThanOrEqual(20);
    expect(promoted.stderr).toMatch(/prod: canary 10% 2m, step 1\/1: 10% on the new version; watching errorRate > 5%/);
    expect(live()).toMatchObject({ version: 1, extra: undefined });
    const share = counts.failed / counts.total;
    console.log(
      `bad canary: ${counts.failed} of ${counts.total} requests failed (${(share * 100).toFixed(2)} %); breach ${JSON.stringify(outcome.failure.breach)}`,
    );
    expect(counts.total).toBeGreaterThan(100);
    expect(share).toBeLessThan(0.05);
  });

  it('a good release completes a canary, then another a linear shift, every weight in the ledger', async () => {
    await release(0, 'good-canary', 'canary 10% 3s');
    const traffic = load(up.urls['prod'] ?? '');
    const canary = await runCli(['promote', '--json', '--dir', app.dir], { timeoutMs: 300_000 });
    expect(canary.code, canary.stderr).toBe(0);
    await release(0, 'good-linear', 'linear 40% every 2s');
    const linear = await runCli(['promote', '--json', '--dir', app.dir], { timeoutMs: 300_000 });
    const counts = await traffic.stop();
    expect(linear.code, linear.stderr).toBe(0);
    const shift = (result: typeof canary) =>
      result.json<{
        environments: {
          shift: {
            weights: number[];
            steps: { weight: number; newVersion: { invocations: number; errors: number } }[];
          };
        }[];
      }>().environments[0]?.shift;
    expect(shift(canary)?.weights).toEqual([0.1]);
    expect(shift(linear)?.steps.map((step) => step.weight)).toEqual([0.4, 0.8]);
    expect(shift(linear)?.steps.every((step) => step.newVersion.invocations > 0 && step.newVersion.errors === 0)).toBe(
      true,
    );
    expect(live()).toMatchObject({ version: 4, extra: undefined });
    const db = store();
    const weights = db.ledger
      .list({})
      .filter((entry) => entry.kind.startsWith('alias') && entry.detail['shift'] !== undefined)
      .map((entry) => entry.detail['weight']);
    db.close();
    expect(weights).toEqual([0.1, 0.1, 0.4, 0.8]);
    console.log(`good canary + linear: ${counts.failed} of ${counts.total} requests failed`);
    expect(counts.failed).toBe(0);
  });

  it('a 30 % split holds within ±2 points over 10,000 requests; Ctrl-C during the shift rolls back', async () => {
    await release(0, 'split', 'canary 30% 10m');
    const promote = spawn(process.execPath, [CLI, 'promote', '--dir', app.dir], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    promote.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => promote.once('exit', (code) => resolve(code)));
    const split = await eventually(
      async () => {
        const alias = live();
        return alias?.extra ? alias : undefined;
      },
      60_000,
      'the 30 % split',
    );
    expect(split).toMatchObject({ version: 4, extra: { version: 5, weight: 0.3 } });
    const served = () => {
      const db = store();
      const count = (version: number) =>
        db.metrics.summary({
          instance: 'traffic-api-prod',
          alias: 'live',
          version,
          sinceMs: 0,
          untilMs: Date.now() + 60_000,
        }).invocations;
      const counts = { old: count(4), new: count(5) };
      db.close();
      return counts;
    };
    // up picks the alias change up within a second: wait for the first request on the new version.
    await eventually(
      async () =>
        ((await (await fetch(`${up.urls['prod']}/hello`)).json()) as { version: string }).version === '5'
          ? true
          : undefined,
      30_000,
      'up to route to v5',
    );
    const before = served();
    const traffic = load(up.urls['prod'] ?? '', { amount: 10_000 });
    await traffic.done;
    const after = await eventually(
      async () => {
        const now = served();
        return now.old + now.new - before.old - before.new >= 10_000 ? now : undefined;
      },
      30_000,
      'the metrics of 10,000 requests',
    );
    const share = (after.new - before.new) / (after.new + after.old - before.new - before.old);
    console.log(
      `split: ${after.new - before.new} of ${after.new + after.old - before.new - before.old} requests on the new version (${(share * 100).toFixed(2)} %, weight 30 %)`,
    );
    expect(Math.abs(share - 0.3)).toBeLessThanOrEqual(0.02);
    promote.kill('SIGINT');
    expect(await exited).toBe(1);
    expect(stderr).toMatch(/interrupted: rolling back/);
    expect(stderr).toMatch(/interrupted during the shift \(canary 30% 10m, 30%\)/);
    expect(live()).toMatchObject({ version: 4, extra: undefined });
  });
});
