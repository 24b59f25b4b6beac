/**
 * The generated Bitbucket and GitHub pipelines, run step by step by the step runner
 * (test/helpers/step-runner.ts): each step in a fresh clone with only declared artifacts, against
 * moto_server with the shared DynamoDB state. Main builds once; staging is reached on its own;
 * prod only by the manual step, with the same release; a smoke failure in staging rolls back and
 * fails the pipeline, and the button of that pipeline is then refused. Credentials: the step's OIDC
 * token is exchanged for AWS_ROLE_ARN by the AWS SDK (moto's STS), without keys. A branch deploys its
 * own environment with the release its check step built.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ciApp, liveRelease, useMotoApp, type CiApp } from './helpers/ci-app.js';
import { CLI } from './helpers/cli.js';
import { startMotoSession, type MotoSession } from './helpers/moto.js';
import { bitbucketSteps, git, githubSteps, PipelineRun, type CiStep } from './helpers/step-runner.js';

const CASES = [
  {
    kind: 'bitbucket',
    file: 'bitbucket-pipelines.yml',
    vars: { BITBUCKET_BRANCH: 'main' },
    steps: (text: string) => bitbucketSteps(text, 'main'),
  },
  {
    kind: 'github',
    file: '.github/workflows/stagecraft.yml',
    vars: { GITHUB_REF_NAME: 'main', GITHUB_ACTIONS: 'true' },
    steps: (text: string) => githubSteps(text, 'build'),
  },
] as const;

for (const ci of CASES) {
  describe(`${ci.kind} pipeline through the step runner, on moto`, () => {
    let session: MotoSession;
    let app: CiApp;
    let env: Record<string, string>;
    const runs: PipelineRun[] = [];
    const pipeline = () => {
      const run = new PipelineRun(app.dir, env);
      runs.push(run);
      return run;
    };
    const releaseOf = (output: string) => /(?:built|unchanged:) release (r\d+-[0-9a-f]+)/.exec(output)?.[1];

    beforeAll(async () => {
      session = await startMotoSession();
      app = await ciApp(ci.kind);
      env = { ...session.moto.env, ...ci.vars, STAGECRAFT_CLI: CLI, STAGECRAFT_ACTOR: `${ci.kind}:tester` };
    }, 120_000);
    afterAll(async () => {
      for (const run of runs) run.remove();
      app?.remove();
      await session?.stop();
    });

    it('main: builds once, promotes to staging by itself, stops before prod; the manual step puts the same release in prod', async () => {
      const steps: CiStep[] = ci.steps(app.read(ci.file));
      expect(steps.map((step) => step.manual)).toEqual([false, false, true]);
      const run = pipeline();
      const build = await run.run(steps[0] as CiStep);
      expect(build.code, build.output).toBe(0);
      const release = releaseOf(build.output);
      expect(release).toMatch(/^r\d+-/);
      expect(build.output).toContain('unit tests: ok');
      const promote = await run.run(steps[1] as CiStep);
      expect(promote.code, promote.output).toBe(0);
      expect([
        await liveRelease(session.lambda, 'dev'),
        await liveRelease(session.lambda, 'staging'),
        await liveRelease(session.lambda, 'prod'),
      ]).toEqual([release, release, undefined]);
      const approve = await run.run(steps[2] as CiStep);
      expect(approve.code, approve.output).toBe(0);
      expect(await liveRelease(session.lambda, 'prod')).toBe(release);
      for (const later of [promote, approve]) {
        expect(later.output).not.toMatch(/building \d+ function/);
        expect(later.output).toContain(release);
        expect(
          later.output.match(/\br\d+-[0-9a-f]{6,}/g)?.every((id) => id === release),
          later.output,
        ).toBe(true);
      }
    }, 600_000);

    it("a smoke failure in staging rolls dev back and fails the pipeline; that pipeline's prod button is refused (exit 3)", async () => {
      const before = await liveRelease(session.lambda, 'staging');
      app.write('src/api.mjs', `${app.read('src/api.mjs')}// a change: a new release\n`);
      app.commit('a change');
      const steps: CiStep[] = ci.steps(app.read(ci.file));
      const run = pipeline();
      const build = await run.run(steps[0] as CiStep);
      expect(build.code, build.output).toBe(0);
      const next = releaseOf(build.output);
      expect(next).not.toBe(before);
      const promote = await run.run(steps[1] as CiStep, { BREAK_SMOKE: 'staging' });
      expect(promote.code, promote.output).toBe(1);
      expect(promote.output).toContain('rolled back');
      expect([await liveRelease(session.lambda, 'dev'), await liveRelease(session.lambda, 'staging')]).toEqual([
        before,
        before,
      ]);
      const approve = await run.run(steps[2] as CiStep);
      expect(approve.code, approve.output).toBe(3);
      expect(approve.output).toContain(`staging runs ${before}, not ${next}`);
      expect(await liveRelease(session.lambda, 'prod')).toBe(before);
    }, 600_000);
  });
}

describe("bitbucket pipeline credentials: the step's OIDC token, no keys", () => {
  const context = useMotoApp('bitbucket');

  it("builds with the OIDC token exchanged for AWS_ROLE_ARN (moto's STS), and fails without it", async () => {
    const { session, app } = context;
    const [build] = bitbucketSteps(app.read('bitbucket-pipelines.yml'), 'main');
    const noKeys = {
      ...session.moto.env,
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_SESSION_TOKEN: '',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/stagecraft-ci',
      BITBUCKET_BRANCH: 'main',
      STAGECRAFT_CLI: CLI,
    };
    const run = new PipelineRun(app.dir, noKeys);
    try {
      const without = await run.run(build as CiStep);
      expect(without.code, without.output).not.toBe(0);
      expect(without.output).toContain('Could not load credentials from any providers');
      // A JWT's shape; moto's AssumeRoleWithWebIdentity does not check the signature.
      const withToken = await run.run(build as CiStep, {
        BITBUCKET_STEP_OIDC_TOKEN: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln',
      });
      expect(withToken.code, withToken.output).toBe(0);
      expect(withToken.output).toMatch(/built release r\d+-/);
    } finally {
      run.remove();
    }
  }, 300_000);
});

describe('bitbucket pipeline of a branch', () => {
  const context = useMotoApp('bitbucket');

  it('checks the branch and deploys the release it built to its own environment dev-<who>-<branch>, nothing else', async () => {
    const { session, app } = context;
    git(['checkout', '-q', '-b', 'feature/login'], app.dir);
    app.write('src/api.mjs', `${app.read('src/api.mjs')}// the branch's change\n`);
    app.commit('log in');
    const env = {
      ...session.moto.env,
      BITBUCKET_BRANCH: 'feature/login',
      STAGECRAFT_CLI: CLI,
      STAGECRAFT_ACTOR: 'bitbucket:tester',
    };
    const run = new PipelineRun(app.dir, env);
    try {
      const [check, branch] = bitbucketSteps(app.read('bitbucket-pipelines.yml'), 'default');
      const checked = await run.run(check as CiStep);
      expect(checked.code, checked.output).toBe(0);
      expect(checked.output).not.toContain('promote');
      const deployed = await run.run(branch as CiStep);
      expect(deployed.code, deployed.output).toBe(0);
      // The commit's author is ada@example.com (test/helpers/step-runner.ts): who = ada.
      expect(deployed.output).toContain('dev-ada-feature-login');
      expect(deployed.output).not.toMatch(/building \d+ function/);
      expect(await liveRelease(session.lambda, 'dev-ada-feature-login')).toMatch(/^r\d+-/);
      expect(await liveRelease(session.lambda, 'dev')).toBeUndefined();
    } finally {
      run.remove();
    }
  }, 300_000);
});
