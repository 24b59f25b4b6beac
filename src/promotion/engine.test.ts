/** The promotion engine in-process against a fake Provider: steps, gates, and undo on failure. */
import { describe, expect, it } from 'vitest';
import { failed, fakeApp, ok } from '../../test/helpers/fake-provider.js';
import { approve, deploy, promote } from './index.js';

const MANIFEST = (prod = '') => `
app: shop
environments:
  - name: dev
  - name: prod${prod}
functions:
  api:
    handler: src/api.handler
smoke:
  - name: ping
    invoke: api
    expect: { status: 200 }
`;

describe('PromotionRun', () => {
  it('publishes, points smoke, tests and moves live in each environment, journalled to the end', async () => {
    const app = await fakeApp(MANIFEST());
    const release = app.release();
    const outcome = await promote(app.ctx, {});
    expect(outcome).toMatchObject({
      status: 'succeeded',
      release: release.id,
      environments: [
        { name: 'dev', step: 'live' },
        { name: 'prod', step: 'live' },
      ],
    });
    expect(app.provider.pointers()).toEqual({
      'shop-api-dev:live': 'v1',
      'shop-api-dev:smoke': 'v1',
      'shop-api-prod:live': 'v1',
      'shop-api-prod:smoke': 'v1',
    });
    const kinds = app.store.ledger.list({}).map((entry) => entry.kind);
    expect(kinds).toContain('promotion.succeeded');
    expect(kinds.filter((kind) => kind === 'smoke.passed')).toHaveLength(2);
  });

  it('pauses at a manual gate and moves live only after the approval', async () => {
    const app = await fakeApp(MANIFEST('\n    approval: manual'));
    app.release();
    expect((await promote(app.ctx, {})).status).toBe('awaiting-approval');
    expect(app.provider.pointers()['shop-api-prod:live']).toBeUndefined();
    expect(app.provider.pointers()['shop-api-prod:smoke']).toBe('v1');
    const approved = await approve(app.ctx, 'prod', 'ana');
    expect(approved).toMatchObject({ status: 'succeeded', environments: [{}, { approval: { by: 'ana' } }] });
    expect(app.provider.pointers()['shop-api-prod:live']).toBe('v1');
  });

  it('refuses to go past an environment whose soak time has not been served', async () => {
    const app = await fakeApp(MANIFEST().replace('  - name: dev', '  - name: dev\n    soak: 1h'));
    app.release();
    const outcome = await promote(app.ctx, {});
    expect(outcome).toMatchObject({ status: 'refused', refusal: { environment: 'dev' } });
    expect(app.provider.pointers()['shop-api-prod:live']).toBeUndefined();
  });

  it('a failed smoke test in prod puts live and smoke back in prod and in dev, which it had changed', async () => {
    const app = await fakeApp(MANIFEST());
    app.release('a'.repeat(64));
    await promote(app.ctx, {});
    app.release('b'.repeat(64));
    app.provider.answer = (request, version) =>
      request.instance.endsWith('prod') && version === 2 ? failed('boom') : ok('{"statusCode":200}');
    const outcome = await promote(app.ctx, {});
    expect(outcome).toMatchObject({ status: 'failed', failure: { environment: 'prod', step: 'smoke' } });
    expect(outcome.environments.map((env) => env.step)).toEqual(['restored', 'restored']);
    expect(app.provider.pointers()).toEqual({
      'shop-api-dev:live': 'v1',
      'shop-api-dev:smoke': 'v1',
      'shop-api-prod:live': 'v1',
      'shop-api-prod:smoke': 'v1',
    });
    const failedEntry = app.store.ledger.list({}).find((entry) => entry.kind === 'promotion.failed');
    expect(failedEntry?.detail).toMatchObject({ failedIn: 'prod', rolledBack: ['prod', 'dev'] });
  });

  it('a provider failure while live moves rolls back like a failed test; deploy changes one environment', async () => {
    const app = await fakeApp(MANIFEST());
    app.release('a'.repeat(64));
    await deploy(app.ctx, 'dev');
    app.release('b'.repeat(64));
    app.provider.failUpdate = (target) => target.name === 'live' && target.version === 2;
    const outcome = await deploy(app.ctx, 'dev');
    expect(outcome).toMatchObject({
      status: 'failed',
      failure: { environment: 'dev', reason: 'the fake provider refused' },
    });
    expect(app.provider.pointers()).toEqual({ 'shop-api-dev:live': 'v1', 'shop-api-dev:smoke': 'v1' });
  });
});
