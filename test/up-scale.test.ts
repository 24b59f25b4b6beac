/**
 * The environment pool's policy under `up`: only `--prewarm` routed functions start before their
 * first request (the chain's first environment first), the others on first use; a burst over
 * every instance is answered; environments idle for `--idle-timeout` are stopped, which the status
 * document and the runtime processes' exit show.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';
import { descendants, isRunning } from './helpers/processes.js';
import { startUp, type RunningUp } from './helpers/up.js';
import { eventually, until } from './helpers/wait.js';

interface FunctionStats {
  instance: string;
  environments: number;
  warm: number;
  busy: number;
  invocations: number;
  coldStarts: number;
}
interface Status {
  functions: FunctionStats[];
  starts: { starting: number; waiting: number };
}

describe('up: the environment pool at scale', () => {
  const app = copyApp('scale');
  const running: RunningUp[] = [];
  beforeAll(async () => {
    for (const args of [['build'], ['deploy', 'dev'], ['deploy', 'staging']]) {
      const result = await runCli([...args, '--dir', app.dir]);
      expect(result.code, result.stderr).toBe(0);
    }
  }, 120_000);
  afterAll(async () => {
    for (const up of running) await up.stop();
    app.remove();
  });

  async function up(args: string[]): Promise<RunningUp> {
    const started = await startUp(app.dir, { ports: 4, args });
    running.push(started);
    return started;
  }
  const status = async (up: RunningUp): Promise<Status> =>
    (await (await fetch(`${up.dashboard}/api/status`)).json()) as Status;
  const byInstance = (document: Status): Record<string, FunctionStats> =>
    Object.fromEntries(document.functions.map((entry) => [entry.instance, entry]));
  const get = async (up: RunningUp, env: string, fn: string) => {
    const response = await fetch(`${up.urls[env]}/${fn}`);
    return { status: response.status, body: await response.text() };
  };

  it('prewarms only --prewarm functions, starts the others on first use, and answers a burst over all of them', async () => {
    const server = await up(['--prewarm', '1']);
    // The prewarm begins before the gateways open; wait for its init to end.
    const settled = await eventually(async () => {
      const document = await status(server);
      return document.starts.starting === 0 && document.starts.waiting === 0 ? document : undefined;
    }, 30_000);
    expect(settled.functions.map((entry) => [entry.instance, entry.environments, entry.warm])).toEqual([
      ['scale-one-dev', 1, 1],
    ]);

    expect(await get(server, 'staging', 'three')).toEqual({ status: 200, body: '{"fn":"three","env":"staging"}' });
    expect(byInstance(await status(server))['scale-three-staging']).toMatchObject({ coldStarts: 1, invocations: 1 });

    // Four requests at once to each of the six instances: every one answered.
    const calls = ['dev', 'staging'].flatMap((env) =>
      ['one', 'two', 'three'].flatMap((fn) => Array.from({ length: 4 }, () => get(server, env, fn))),
    );
    const answers = await Promise.all(calls);
    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    const after = byInstance(await status(server));
    expect(Object.keys(after).sort()).toHaveLength(6);
    expect(after['scale-two-dev']).toMatchObject({ invocations: 4 });
    expect(after['scale-three-staging']).toMatchObject({ invocations: 5 });
  }, 120_000);

  it('stops environments idle for --idle-timeout: gone from the status and their processes exit', async () => {
    const server = await up(['--prewarm', '0', '--idle-timeout', '3s']);
    expect((await status(server)).functions).toEqual([]);
    expect(await get(server, 'dev', 'one')).toMatchObject({ status: 200 });
    expect(await get(server, 'dev', 'two')).toMatchObject({ status: 200 });
    const runtimes = descendants(server.pid); // the runtime processes (bwrap and Node, or Node alone)
    expect(runtimes.length).toBeGreaterThanOrEqual(1);

    await eventually(
      async () => ((await status(server)).functions.every((entry) => entry.environments === 0) ? true : undefined),
      30_000,
      'every idle environment to be stopped',
    );
    await until(() => runtimes.every((pid) => !isRunning(pid)), 10_000, 'the runtime processes to exit');
    expect(descendants(server.pid)).toEqual([]);

    // The next request is simply a cold start again.
    expect(await get(server, 'dev', 'one')).toMatchObject({ status: 200 });
    expect(byInstance(await status(server))['scale-one-dev']).toMatchObject({
      coldStarts: 2,
      invocations: 2,
      environments: 1,
    });
  }, 120_000);

  it('refuses a wrong --idle-timeout or --prewarm with exit 2, naming the fix', async () => {
    for (const [flag, value, message] of [
      ['--idle-timeout', 'soon', /--idle-timeout must be a duration of at least 100ms, such as 30s or 5m, got "soon"/],
      ['--prewarm', '-1', /--prewarm must be a whole number of functions, 0 or more, got "-1"/],
    ] as const) {
      const result = await runCli(['up', '--dir', app.dir, flag, value]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });
});
