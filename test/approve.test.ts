/** `approve` with nothing waiting is a refusal (exit 3, DESIGN §4), and changes nothing. */
import { afterAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';

describe('approve with nothing waiting', () => {
  const app = copyApp('basic');
  afterAll(() => app.remove());

  it('is refused with exit 3, saying where to look', async () => {
    expect((await runCli(['build', '--dir', app.dir])).code).toBe(0);
    const before = (await runCli(['history', '--json', '--dir', app.dir])).json<{ entries: unknown[] }>().entries
      .length;
    const refused = await runCli(['approve', 'prod', '--dir', app.dir]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/no promotion is waiting for an approval in prod/);
    expect(refused.stderr).toMatch(/stagecraft status/);
    const json = await runCli(['approve', 'prod', '--json', '--dir', app.dir]);
    expect(json.json()).toMatchObject({ ok: false, error: { code: 'APPROVAL_NOT_WAITING', kind: 'refused' } });
    expect((await runCli(['history', '--json', '--dir', app.dir])).json<{ entries: unknown[] }>().entries).toHaveLength(
      before,
    );
  });
});
