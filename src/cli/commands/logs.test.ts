// `stagecraft logs` in-process: a fresh program with only this command, over a real app folder
// and a log file the real file sink wrote. (The spawned-CLI test lives with the other end-to-end ones.)
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandHarness } from '../../../test/helpers/in-process-command.js';
import { FileLogSink, logDir } from '../../runtime/index.js';
import { StateStore } from '../../state/index.js';
import { registerLogs } from './logs.js';

const MANIFEST = `
app: shop
environments: [{ name: dev }, { name: prod }]
functions:
  api:
    handler: src/api.handler
  worker:
    handler: src/worker.handler
`;

describe('stagecraft logs', () => {
  const cli = commandHarness('logs', registerLogs, MANIFEST, ['src/api.js', 'src/worker.js']);
  const logs = (...args: string[]) => cli.run(...args);

  async function written(): Promise<void> {
    // The app's state database exists first, as for every app that has logs: logs beside none would be
    // state lost (src/state/health.ts).
    mkdirSync(join(cli.dir, '.stagecraft'), { recursive: true });
    StateStore.open(join(cli.dir, '.stagecraft', 'state.db')).close();
    const sink = new FileLogSink(logDir(cli.dir));
    for (const n of [1, 2, 3]) {
      sink.write({
        instance: 'shop-api-dev',
        version: String(n),
        requestId: `req-${n}`,
        lines: [`START RequestId: req-${n} Version: ${n}`, `line ${n}`],
      });
    }
    sink.write({ instance: 'shop-api-prod', version: '9', requestId: 'req-p', lines: ['prod only'] });
    await sink.close();
  }

  it('prints the last lines of the instance as JSON', async () => {
    await written();
    expect(await logs('api', '--env', 'dev', '--limit', '3', '--json')).toBe(0);
    const doc = JSON.parse(cli.stdout) as {
      ok: boolean;
      instance: string;
      lines: string[];
      entries: Array<Record<string, string>>;
    };
    expect(doc.ok).toBe(true);
    expect(doc.instance).toBe('shop-api-dev');
    expect(doc.lines).toEqual(['line 2', 'START RequestId: req-3 Version: 3', 'line 3']);
    expect(doc.entries.map((entry) => [entry['version'], entry['requestId'], entry['line']])).toEqual([
      ['2', 'req-2', 'line 2'],
      ['3', 'req-3', 'START RequestId: req-3 Version: 3'],
      ['3', 'req-3', 'line 3'],
    ]);
  });

  it('prints lines for people without --json, and says so when there are none yet', async () => {
    await written();
    expect(await logs('api', '--env', 'prod')).toBe(0);
    expect(cli.stdout).toMatch(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z \[9\] prod only\n$/);
    expect(await logs('worker', '--env', 'dev')).toBe(0);
    expect(cli.stdout).toBe('');
    expect(cli.stderr).toContain('no logs yet for shop-worker-dev');
  });

  it('refuses an unknown function or environment, a bad limit, and --follow with --json (exit 2)', async () => {
    expect(await logs('nope', '--env', 'dev', '--json')).toBe(2);
    expect(JSON.parse(cli.stdout).error).toMatchObject({ code: 'FUNCTION_UNKNOWN', hint: 'functions: api, worker' });
    expect(await logs('api', '--env', 'qa', '--json')).toBe(2);
    expect(JSON.parse(cli.stdout).error).toMatchObject({
      code: 'ENVIRONMENT_UNKNOWN',
      hint: 'environments: dev, prod',
    });
    expect(await logs('api', '--env', 'dev', '--limit', '0')).toBe(2);
    expect(await logs('api', '--env', 'dev', '--follow', '--json')).toBe(2);
  });
});
