// The app bench/gateway measures: one Node function behind one route, built, deployed to dev and
// unpacked, so that `up` serves it at once and baseline.mjs / floor.mjs can load the very same
// bundled artifact.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts } from '../lib/system.mjs';

const HANDLER = `export const handler = async (event) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ hello: 'world', path: event.rawPath }),
});
`;

const MANIFEST =
  'app: bench\nruntime: nodejs20.x\nenvironments:\n  - name: dev\nfunctions:\n  hello:\n    handler: src/hello.handler\n    concurrency: 10\n    events:\n      - http: GET /hello\n';

/** Creates the app in `app` (afresh) with the CLI at `cli`; returns the bundled handler's path. */
export function prepareApp(app, cli) {
  const stagecraft = (...args) => {
    const result = spawnSync(process.execPath, [cli, ...args, '--json', '--dir', app], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`stagecraft ${args.join(' ')} failed:\n${result.stderr}`);
    return JSON.parse(result.stdout);
  };
  rmSync(app, { recursive: true, force: true });
  mkdirSync(join(app, 'src'), { recursive: true });
  writeFileSync(join(app, 'src', 'hello.mjs'), HANDLER);
  writeFileSync(join(app, 'stagecraft.yml'), MANIFEST);
  const built = stagecraft('build');
  stagecraft('deploy', 'dev');
  stagecraft('invoke', 'hello', '--env', 'dev'); // unpacks the artifact
  return join(app, '.stagecraft', 'code', built.functions[0].sha256, 'src', 'hello.mjs');
}

/** Milliseconds from `started` (performance.now()) to the first 200 from `url`, polled every 5 ms. */
export async function firstOk(url, started) {
  for (;;) {
    try {
      if ((await fetch(url)).status === 200) return performance.now() - started;
    } catch {
      /* not listening yet */
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** One start of `server` ({ name, args(port), offset?, path }): ms from spawning it to its first 200. */
async function startOnce(server) {
  const port = await freePorts((server.offset ?? 0) + 1);
  const started = performance.now();
  const child = spawn(process.execPath, server.args(port), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const died = new Promise((_, reject) =>
    child.once('exit', (code) => reject(new Error(`${server.name} on port ${port} exited (${code}):\n${stderr}`))),
  );
  died.catch(() => undefined); // its stop below is no failure
  const ms = await Promise.race([
    firstOk(`http://127.0.0.1:${port + (server.offset ?? 0)}${server.path}`, started),
    died,
  ]);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  return Math.round(ms);
}

/**
 * Start → first 200 of each server, `rounds` times: each round starts every server once, in turn,
 * so that the machine's drift falls on all alike. One start is too noisy to compare (±30 %).
 */
export async function startTimes(servers, rounds) {
  const times = new Map(servers.map((server) => [server.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const server of servers) times.get(server.name).push(await startOnce(server));
  }
  return times;
}

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
