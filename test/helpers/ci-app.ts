/**
 * The CI tests' app repository: test/fixtures/apps/ci-chain committed on `main` with its
 * generated pipeline, and what `live` runs in each environment on moto, read from Lambda itself.
 */
import { GetAliasCommand, GetFunctionConfigurationCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll } from 'vitest';
import { copyApp, runCli } from './cli.js';
import { startMotoSession, type MotoSession } from './moto.js';
import { git } from './step-runner.js';

export interface CiApp {
  dir: string;
  write(file: string, text: string): void;
  read(file: string): string;
  commit(message: string): void;
  remove(): void;
}

export async function ciApp(kind: 'bitbucket' | 'github' | 'gitlab'): Promise<CiApp> {
  const app = copyApp('ci-chain');
  git(['init', '-q', '-b', 'main'], app.dir);
  const written = await runCli(['ci', kind, '--write', '--dir', app.dir]);
  if (written.code !== 0) throw new Error(`ci ${kind} --write: ${written.stderr}`);
  const commit = (message: string) => {
    git(['add', '-A'], app.dir);
    git(['commit', '-q', '-m', message], app.dir);
  };
  commit('the app and its pipeline');
  return { ...app, commit };
}

/** The release `live` runs in `env` (named in the version's description), or undefined when there is no live alias. */
export async function liveRelease(lambda: LambdaClient, env: string): Promise<string | undefined> {
  const alias = await lambda
    .send(new GetAliasCommand({ FunctionName: `cichain-api-${env}`, Name: 'live' }))
    .catch(() => undefined);
  if (!alias) return undefined;
  const version = await lambda.send(
    new GetFunctionConfigurationCommand({ FunctionName: `cichain-api-${env}`, Qualifier: alias.FunctionVersion }),
  );
  return (JSON.parse(version.Description ?? '{}') as { r?: string }).r;
}

/** In a describe block: a moto_server and a fresh app repository for its tests, both gone after them. */
export function useMotoApp(kind: 'bitbucket' | 'github' | 'gitlab'): { session: MotoSession; app: CiApp } {
  const context = {} as { session: MotoSession; app: CiApp };
  beforeAll(async () => {
    context.session = await startMotoSession();
    context.app = await ciApp(kind);
  }, 120_000);
  afterAll(async () => {
    context.app?.remove();
    await context.session?.stop();
  });
  return context;
}
