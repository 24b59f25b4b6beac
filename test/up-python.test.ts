/**
 * Python functions under `up`: every kind of failure answered as AWS answers it while the rest
 * keeps serving, a queue batch with partial failures, and AWS-shaped log lines in `logs`.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateStore } from '../src/state/index.js';
import { copyApp, runCli } from './helpers/cli.js';
import { startUp, type RunningUp } from './helpers/up.js';
import { eventually } from './helpers/wait.js';

describe('up: python functions', () => {
  const app = copyApp('python');
  let up: RunningUp;
  let url = '';
  let store: StateStore;
  beforeAll(async () => {
    for (const args of [['build'], ['deploy', 'dev']]) {
      const result = await runCli([...args, '--dir', app.dir]);
      expect(result.code, result.stderr).toBe(0);
    }
    store = StateStore.open(join(app.dir, '.stagecraft', 'state.db'));
    store.transaction(() => {
      for (const body of [{ id: 1 }, { id: 2, fail: true }, { id: 3 }])
        store.queues.send('pyfaults-jobs-dev', JSON.stringify(body));
    });
    up = await startUp(app.dir, { ports: 2 });
    url = up.urls['dev'] ?? '';
  }, 120_000);
  afterAll(async () => {
    store?.close();
    expect(await up?.stop()).toBe(0);
    app.remove();
  });

  const get = async (path: string) => {
    const response = await fetch(`${url}${path}`);
    return { status: response.status, body: await response.text(), headers: response.headers };
  };

  async function whileServing<T>(work: () => Promise<T>): Promise<T> {
    let running = true;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (running) statuses.push((await get('/ok')).status, (await get('/py/items/7')).status);
    })();
    try {
      return await work();
    } finally {
      running = false;
      await traffic;
      expect(statuses.length).toBeGreaterThan(0);
      expect(statuses.every((status) => status === 200)).toBe(true);
    }
  }

  const CASES: [string, string][] = [
    ['a handler that raises', '/boom'],
    ['a handler that calls sys.exit', '/exit'],
    ['a syntax error at init', '/syntax'],
    ['a handler missing from its module', '/missing'],
    ['a handler that exhausts its memory', '/oom'],
  ];
  for (const [what, path] of CASES) {
    it(`${what}: 500 {"message":"Internal Server Error"}, and up keeps serving`, async () => {
      const answer = await whileServing(() => get(path));
      expect(answer.status).toBe(500);
      expect(answer.body).toBe('{"message":"Internal Server Error"}');
      expect(answer.headers.get('apigw-requestid')).toBeTruthy();
      expect((await get('/py/items/8')).status).toBe(200);
    }, 60_000);
  }

  it('a handler past its timeout, or looping forever, is killed and answered as AWS does', async () => {
    for (const path of ['/slow', '/loop']) {
      const answer = await whileServing(() => get(path));
      expect(answer.status).toBe(500);
      expect(answer.body).toBe('{"message":"Internal Server Error"}');
    }
  }, 60_000);

  it("REST payload 1.0 routes: 502 for a raising function, the handler's answer otherwise", async () => {
    expect(JSON.parse((await get('/v1/boom')).body)).toEqual({ message: 'Internal server error' });
    const answer = await get('/v1/py/items/5?tag=x');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ id: '5', tags: ['x'] });
  });

  it("invoke answers with AWS's error documents", async () => {
    const invoke = async (fn: string) =>
      (await runCli(['invoke', fn, '--env', 'dev', '--json', '--dir', app.dir])).json<{
        error: Record<string, unknown>;
      }>().error;
    expect(await invoke('boom')).toMatchObject({
      errorType: 'Exception',
      errorMessage: 'boom',
      stackTrace: [expect.stringMatching(/^ {2}File ".*faults\.py", line \d+, in boom\n/)],
    });
    expect(await invoke('missing')).toMatchObject({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: "Handler 'handler' missing on module 'dynamic'",
      stackTrace: [],
    });
    expect(await invoke('syntax')).toMatchObject({
      errorType: 'Runtime.UserCodeSyntaxError',
      errorMessage: expect.stringMatching(/^Syntax error in module 'broken': /),
    });
    expect(await invoke('quit')).toMatchObject({
      errorType: 'Runtime.ExitError',
      errorMessage: expect.stringMatching(/Error: Runtime exited with error: exit status 1$/),
    });
  }, 60_000);

  it('a queue batch with one failed item: the others are done, the failed one goes to the dead-letter queue', async () => {
    await eventually(
      async () => {
        const main = store.queues.counts('pyfaults-jobs-dev');
        return store.queues.counts('pyfaults-jobs-dlq-dev').visible === 1 && main.visible + main.inFlight === 0
          ? true
          : undefined;
      },
      60_000,
      'the failed message dead-lettered',
    );
    const logs = await runCli(['logs', 'worker', '--env', 'dev', '--dir', app.dir]);
    const processed = logs.stdout
      .split('\n')
      .filter((line) => /processed \d$/.test(line))
      .map((line) => line.at(-1));
    expect(new Set(processed)).toEqual(new Set(['1', '3']));
  }, 90_000);

  it("logs shows the logging module's lines in AWS's format, around START / END / REPORT", async () => {
    const logs = (await runCli(['logs', 'api', '--env', 'dev', '--dir', app.dir])).stdout;
    expect(logs).toMatch(/\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t[0-9a-f-]{36}\tGET \/items\/7/);
    expect(logs).toMatch(
      /REPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB/,
    );
  });
});
