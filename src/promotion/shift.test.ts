/** The traffic gate in-process against a fake Provider: canary and linear moves, alarms, hooks, interrupts. */
import { describe, expect, it } from 'vitest';
import { fakeApp, failed, ok } from '../../test/helpers/fake-provider.js';
import type { ArmedAlarm, ShiftAlarms } from '../providers/index.js';
import { deploy } from './index.js';

const MANIFEST = (dev: string) => `
app: shop
environments:
  - name: dev
${dev}
functions:
  api:
    handler: src/api.handler
`;

/** An app whose dev runs release A (v1), and a release B (v2) to shift to. */
async function shifting(dev: string) {
  const app = await fakeApp(MANIFEST(dev));
  app.release('a'.repeat(64));
  await deploy(app.ctx, 'dev');
  app.release('b'.repeat(64));
  app.provider.calls.length = 0;
  return app;
}

describe('traffic shifting', { timeout: 30_000 }, () => {
  it('canary: live keeps v1 with v2 at 10 %, then moves to v2 alone (the split cleared)', async () => {
    const app = await shifting('    deployment: canary 10% 1s\n    alarms: [{ errorRate: "> 5%" }]');
    const outcome = await deploy(app.ctx, 'dev');
    expect(outcome.status).toBe('succeeded');
    expect(app.provider.moves()).toEqual([
      'shop-api-dev:smoke → v2',
      'shop-api-dev:live → v1+v2@0.1',
      'shop-api-dev:live → v2',
    ]);
    expect(outcome.environments[0]?.shift).toMatchObject({
      policy: 'canary 10% 1s',
      weights: [0.1],
      steps: [{ weight: 0.1, endedAt: expect.any(String) }],
    });
    expect(
      app.progress.some((line) =>
        /dev: canary 10% 1s, step 1\/1: 10% on the new version; watching errorRate > 5%/.test(line),
      ),
    ).toBe(true);
  });

  it('linear: every step of the schedule, each one journalled and recorded in the ledger with its weight', async () => {
    const app = await shifting('    deployment: linear 40% every 1s');
    expect((await deploy(app.ctx, 'dev')).status).toBe('succeeded');
    expect(app.provider.moves()).toEqual([
      'shop-api-dev:smoke → v2',
      'shop-api-dev:live → v1+v2@0.4',
      'shop-api-dev:live → v1+v2@0.8',
      'shop-api-dev:live → v2',
    ]);
  });

  it('a breach of errorRate on the new version rolls live back to v1 at 100 % with the values in the failure', async () => {
    const app = await shifting(
      '    deployment: canary 10% 30s\n    alarms: [{ errorRate: "> 5%", window: 1m, minInvocations: 20 }]',
    );
    app.provider.metrics = (query) =>
      query.version === 2
        ? { invocations: 40, errors: 12, throttles: 0, p99Ms: 20 }
        : { invocations: 360, errors: 0, throttles: 0, p99Ms: 20 };
    const outcome = await deploy(app.ctx, 'dev');
    expect(outcome).toMatchObject({
      status: 'failed',
      failure: {
        step: 'shifting',
        reason: expect.stringMatching(/alarm errorRate > 5% breached at 10%: errorRate 30% over 40 invocations in 1m/),
        breach: { metric: 'errorRate', value: 30, threshold: 5, windowMs: 60_000, invocations: 40 },
      },
    });
    expect(app.provider.pointers()['shop-api-dev:live']).toBe('v1');
    const failedEntry = app.store.ledger.list({}).find((entry) => entry.kind === 'promotion.failed');
    expect(failedEntry?.detail).toMatchObject({ breach: { metric: 'errorRate', value: 30 } });
  });

  it('below minInvocations a high error rate is no breach; a p99 or throttles alarm breaches on its own metric', async () => {
    const quiet = await shifting('    deployment: canary 10% 1s\n    alarms: [{ errorRate: "> 5%" }]');
    quiet.provider.metrics = () => ({ invocations: 5, errors: 5, throttles: 0, p99Ms: 5 });
    expect((await deploy(quiet.ctx, 'dev')).status).toBe('succeeded');
    const slow = await shifting(
      '    deployment: canary 10% 30s\n    alarms: [{ p99: "> 800ms" }, { throttles: "> 0" }]',
    );
    slow.provider.metrics = (query) =>
      query.version === 2
        ? { invocations: 50, errors: 0, throttles: 1, p99Ms: 1000 }
        : { invocations: 0, errors: 0, throttles: 0, p99Ms: null };
    expect((await deploy(slow.ctx, 'dev')).failure?.breach).toMatchObject({ alarm: 'p99 > 800ms', value: 1000 });
  });

  it('a CloudWatch alarm in ALARM and a command alarm that exits 1 each roll back', async () => {
    const named = await shifting('    deployment: canary 10% 30s\n    alarms: [{ cloudwatch: shop-errors }]');
    named.provider.alarms.set('shop-errors', 'ALARM');
    expect((await deploy(named.ctx, 'dev')).failure?.breach).toMatchObject({
      alarm: 'cloudwatch shop-errors',
      value: 'ALARM',
    });
    const command = await shifting(
      '    deployment: canary 10% 30s\n    alarms: [{ command: "test $STAGECRAFT_WEIGHT != 0.1" }]',
    );
    expect((await deploy(command.ctx, 'dev')).failure?.breach).toMatchObject({ metric: 'exitCode', value: 1 });
    expect(command.provider.pointers()['shop-api-dev:live']).toBe('v1');
  });

  it('where the provider keeps platform alarms, they alone judge errorRate, read in one call per poll', async () => {
    const manifest = '    deployment: canary 10% 1s\n    alarms: [{ errorRate: "> 5%" }, { cloudwatch: team-errors }]';
    const arm = async (app: Awaited<ReturnType<typeof shifting>>) => {
      const reads: string[][] = [];
      const armedWith: ShiftAlarms[] = [];
      const alarmStates = app.provider.alarmStates.bind(app.provider);
      Object.assign(app.provider, {
        armShiftAlarms: async (shift: ShiftAlarms): Promise<ArmedAlarm[]> => {
          armedWith.push(shift);
          return [{ function: 'api', index: 0, name: 'cw-api-errorRate', windowMs: 60_000 }];
        },
        alarmStates: async (names: string[]) => {
          reads.push(names);
          return alarmStates(names);
        },
      });
      // What the new version served would breach errorRate here; the platform's alarm says OK.
      app.provider.metrics = () => ({ invocations: 100, errors: 50, throttles: 0, p99Ms: 5 });
      return { reads, armedWith };
    };
    const quiet = await shifting(manifest);
    const seen = await arm(quiet);
    expect((await deploy(quiet.ctx, 'dev')).status).toBe('succeeded');
    expect(seen.armedWith).toMatchObject([
      { environment: 'dev', begins: true, targets: [{ function: 'api', instance: 'shop-api-dev', version: 2 }] },
    ]);
    expect(seen.reads.length).toBeGreaterThan(0);
    for (const names of seen.reads) expect(names).toEqual(['cw-api-errorRate', 'team-errors']);
    const breached = await shifting(manifest);
    await arm(breached);
    breached.provider.alarms.set('cw-api-errorRate', 'ALARM');
    expect((await deploy(breached.ctx, 'dev')).failure?.breach).toMatchObject({
      alarm: 'cw-api-errorRate',
      metric: 'errorRate',
      value: 'ALARM',
      threshold: 5,
      windowMs: 60_000,
    });
    expect(breached.provider.pointers()['shop-api-dev:live']).toBe('v1');
  });

  it('hooks: a failing preTraffic command stops before live moves; postTraffic invokes a function with the versions', async () => {
    const pre = await shifting('    deployment: canary 10% 1s\n    hooks: { preTraffic: "exit 3" }');
    const outcome = await deploy(pre.ctx, 'dev');
    expect(outcome.failure?.reason).toMatch(/preTraffic hook `exit 3` exited 3/);
    expect(pre.provider.moves().filter((move) => move.includes(':live'))).toEqual([]);
    const post = await shifting('    hooks: { postTraffic: api }');
    const events: unknown[] = [];
    post.provider.answer = (request) => {
      events.push(JSON.parse(request.payload));
      return request.payload.includes('postTraffic') ? failed('post check failed') : ok('{}');
    };
    const posted = await deploy(post.ctx, 'dev');
    expect(events[0]).toMatchObject({
      hook: 'postTraffic',
      environment: 'dev',
      versions: { api: { from: 1, to: 2 } },
      DeploymentId: posted.promotion,
    });
    expect(posted).toMatchObject({
      status: 'failed',
      failure: { reason: expect.stringMatching(/postTraffic hook api failed: Error: post check failed/) },
    });
    expect(post.provider.pointers()['shop-api-dev:live']).toBe('v1');
  });

  it('an interrupt (Ctrl-C) during a shift rolls back and says so', async () => {
    const app = await shifting('    deployment: canary 10% 30s');
    const interrupt = new AbortController();
    app.ctx.interrupt = interrupt.signal;
    app.provider.failUpdate = (target) => {
      if (target.extra) interrupt.abort();
      return false;
    };
    const outcome = await deploy(app.ctx, 'dev');
    expect(outcome.failure?.reason).toMatch(/interrupted during the shift/);
    expect(app.provider.pointers()['shop-api-dev:live']).toBe('v1');
  });
});
