/**
 * Smoke tests (manifest `smoke`) against one environment's `smoke` alias: `http` through the
 * environment's gateway with the smoke header, `invoke` directly on the alias, `run` any
 * command with STAGECRAFT_URL / STAGECRAFT_ENV / STAGECRAFT_ALIAS set. Every test runs, each
 * within its timeout; the result lists each with its duration and, on failure, the first lines
 * of why.
 */
import { ALIAS_HEADER } from '../../gateway/index.js';
import { aliasName, instanceName, type Manifest, type SmokeTestDef } from '../../manifest/index.js';
import type { Provider } from '../../providers/index.js';
import { truncate, unmetExpectations, type Observed } from './expect.js';
import type { SmokeGateways } from './gateways.js';
import { runCommand } from './run-command.js';

export { SmokeGateways } from './gateways.js';
export { subsetMismatch } from './expect.js';

export interface SmokeResult {
  name: string;
  kind: 'http' | 'invoke' | 'run';
  ok: boolean;
  durationMs: number;
  /** The first lines of what went wrong. */
  failure?: string[];
}

export interface SmokeRunDeps {
  provider: Provider;
  gateways: SmokeGateways;
  appDir: string;
}

const FAILURE_LINES = 12;

export async function runSmokeTests(deps: SmokeRunDeps, manifest: Manifest, env: string): Promise<SmokeResult[]> {
  const results: SmokeResult[] = [];
  for (const test of manifest.smoke) {
    const started = performance.now();
    let failure: string[];
    try {
      failure = await withTimeout(
        runOne(deps, manifest, env, test),
        test.timeout,
        `timed out after ${test.timeout} ms`,
      );
    } catch (error) {
      failure = [(error as Error).message];
    }
    const kind = test.http ? 'http' : test.invoke !== undefined ? 'invoke' : 'run';
    results.push({
      name: test.name,
      kind,
      ok: failure.length === 0,
      durationMs: Math.round(performance.now() - started),
      ...(failure.length > 0 ? { failure: failure.slice(0, FAILURE_LINES).map((line) => truncate(line, 400)) } : {}),
    });
  }
  return results;
}

async function runOne(deps: SmokeRunDeps, manifest: Manifest, env: string, test: SmokeTestDef): Promise<string[]> {
  if (test.http) {
    const base = await deps.gateways.url(manifest, env);
    const response = await fetch(`${base}${test.http.path}`, {
      method: test.http.method,
      headers: { ...test.http.headers, [ALIAS_HEADER]: 'smoke' },
      ...(test.http.body === undefined ? {} : { body: test.http.body }),
      signal: AbortSignal.timeout(test.timeout),
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return unmetExpectations(test.expect, { status: response.status, headers, body: await response.text() });
  }
  if (test.invoke !== undefined) {
    const outcome = await deps.provider.invoke({
      instance: instanceName(manifest, test.invoke, env),
      qualifier: aliasName(manifest, env, 'smoke'),
      payload: JSON.stringify(test.event ?? {}),
    });
    if (!outcome.ok)
      return [
        `${test.invoke} failed: ${outcome.error.errorType}: ${outcome.error.errorMessage}`,
        ...outcome.logs.slice(-6),
      ];
    return unmetExpectations(test.expect, observedResult(outcome.payload));
  }
  const url = await deps.gateways.url(manifest, env);
  const run = await runCommand(test.run ?? 'false', {
    cwd: deps.appDir,
    timeoutMs: test.timeout,
    env: { STAGECRAFT_URL: url, STAGECRAFT_ENV: env, STAGECRAFT_ALIAS: 'smoke', STAGECRAFT_ALIAS_HEADER: ALIAS_HEADER },
  });
  if (run.exitCode === 0 && !run.timedOut) return [];
  const why = run.timedOut
    ? `\`${test.run}\` timed out after ${test.timeout} ms`
    : `\`${test.run}\` exited with ${run.exitCode ?? 'no code'}`;
  return [why, ...run.output.split('\n').filter((line) => line.trim() !== '')];
}

/** A function's result as the gateway would see it: `statusCode`, `headers` and `body` when it has them. */
function observedResult(payload: string): Observed {
  let result: unknown;
  try {
    result = JSON.parse(payload);
  } catch {
    return { headers: {}, body: payload };
  }
  if (result !== null && typeof result === 'object' && 'statusCode' in result) {
    const { statusCode, headers, body } = result as {
      statusCode?: unknown;
      headers?: Record<string, unknown>;
      body?: unknown;
    };
    return {
      status: typeof statusCode === 'number' ? statusCode : undefined,
      headers: Object.fromEntries(
        Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]),
      ),
      body: typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body),
    };
  }
  return { headers: {}, body: payload };
}

async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
