/**
 * The generated GitLab pipeline run by gitlab-ci-local in shell mode (each job in its own copy of
 * the tracked files plus the declared artifacts: --shell-isolation) against moto_server: main
 * builds once, promotes to staging, stops before prod; the manual job (--manual) approves prod
 * with the same release; a smoke failure in staging rolls back and fails the pipeline.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { liveRelease, useMotoApp } from './helpers/ci-app.js';
import { CLI, ROOT } from './helpers/cli.js';

const GITLAB_CI_LOCAL = join(ROOT, 'node_modules', '.bin', 'gitlab-ci-local');

describe('gitlab pipeline in gitlab-ci-local, on moto', () => {
  const context = useMotoApp('gitlab');

  /** Runs gitlab-ci-local in the app's repository; resolves with its exit code and output. */
  const pipeline = (args: string[], variables: Record<string, string> = {}) =>
    new Promise<{ code: number; output: string }>((resolve, reject) => {
      const all = { ...context.session.moto.env, STAGECRAFT_CLI: CLI, NO_COLOR: '1', ...variables };
      const child = spawn(
        GITLAB_CI_LOCAL,
        [
          '--force-shell-executor',
          '--shell-isolation',
          '--max-job-name-padding',
          '0',
          ...Object.entries(all).flatMap(([name, value]) => ['--variable', `${name}=${value}`]),
          ...args,
        ],
        { cwd: context.app.dir, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, output }));
    });
  const jobsStarted = (output: string) => [...output.matchAll(/^(\S+)\s+starting shell/gm)].map((match) => match[1]);
  const releaseIds = (output: string) => [...new Set(output.match(/\br\d+-[0-9a-f]{8}\b/g) ?? [])];

  it('main builds once, promotes to staging and stops before prod; --manual approve-prod puts that release in prod', async () => {
    const main = await pipeline([]);
    expect(main.code, main.output).toBe(0);
    expect(jobsStarted(main.output)).toEqual(['build', 'promote']);
    expect(main.output.match(/building \d+ function/g)).toHaveLength(1);
    const [release, ...others] = releaseIds(main.output);
    expect(others).toEqual([]);
    expect([
      await liveRelease(context.session.lambda, 'dev'),
      await liveRelease(context.session.lambda, 'staging'),
      await liveRelease(context.session.lambda, 'prod'),
    ]).toEqual([release, release, undefined]);

    const manual = await pipeline(['--manual', 'approve-prod', 'approve-prod']);
    expect(manual.code, manual.output).toBe(0);
    expect(jobsStarted(manual.output)).toEqual(['approve-prod']);
    expect(manual.output).not.toMatch(/building \d+ function/);
    expect(releaseIds(manual.output)).toEqual([release]);
    expect(manual.output).toContain(`prod: ${release} is live`);
    expect(await liveRelease(context.session.lambda, 'prod')).toBe(release);
  }, 600_000);

  it('a smoke failure in staging rolls dev back and fails the pipeline', async () => {
    const before = await liveRelease(context.session.lambda, 'staging');
    context.app.write('src/api.mjs', `${context.app.read('src/api.mjs')}// a change: a new release\n`);
    context.app.commit('a change');
    const broken = await pipeline([], { BREAK_SMOKE: 'staging' });
    expect(broken.code, broken.output).not.toBe(0);
    expect(broken.output).toMatch(/FAIL\s+promote/);
    expect(broken.output).toContain('rolled back: dev, staging');
    expect(releaseIds(broken.output).filter((id) => id !== before)).toHaveLength(1);
    expect([
      await liveRelease(context.session.lambda, 'dev'),
      await liveRelease(context.session.lambda, 'staging'),
      await liveRelease(context.session.lambda, 'prod'),
    ]).toEqual([before, before, before]);
  }, 600_000);
});
