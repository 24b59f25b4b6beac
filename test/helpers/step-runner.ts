/**
 * A small CI step runner for the generated Bitbucket and GitHub pipelines: each step runs its
 * scripts in order in a fresh clone of the app's repository, with only the artifacts earlier
 * steps declared carried over, and the CI's variables set as that CI would set them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

export interface CiStep {
  name: string;
  manual: boolean;
  /** Shell scripts, each run by its own `bash -e` (Bitbucket runs a step's lines in one shell: one script). */
  scripts: string[];
  /** Paths this step saves for later steps (Bitbucket `artifacts`, GitHub upload-artifact). */
  saves: string[];
  /** Whether this step gets the saved artifacts (Bitbucket: every later step; GitHub: download-artifact). */
  restores: boolean;
}

export interface StepResult {
  step: string;
  code: number;
  output: string;
}

interface BitbucketStep {
  name: string;
  script: string[];
  trigger?: string;
  artifacts?: string[];
}

/** The steps of `main`, of `default` (every other branch) or of a custom pipeline (`custom:<name>`). */
export function bitbucketSteps(text: string, pipeline: string): CiStep[] {
  type Steps = { step: BitbucketStep }[];
  const document = parse(text) as {
    pipelines: { default: Steps; branches: Record<string, Steps>; custom: Record<string, Steps> };
  };
  const steps =
    pipeline === 'default'
      ? document.pipelines.default
      : pipeline.startsWith('custom:')
        ? (document.pipelines.custom[pipeline.slice('custom:'.length)] ?? [])
        : (document.pipelines.branches[pipeline] ?? []);
  return steps.map(({ step }) => ({
    name: step.name,
    manual: step.trigger === 'manual',
    scripts: [step.script.join('\n')],
    saves: step.artifacts ?? [],
    restores: true,
  }));
}

interface GithubStep {
  uses?: string;
  run?: string;
  with?: Record<string, string | number>;
}
interface GithubJob {
  needs?: string[];
  environment?: string;
  steps: GithubStep[];
}

/** The jobs from `first` on along `needs`; a job with an `environment:` waits for its reviewers (manual). */
export function githubSteps(text: string, first: string): CiStep[] {
  const jobs = (parse(text) as { jobs: Record<string, GithubJob> }).jobs;
  const order = [first];
  for (let next = nextJob(jobs, first); next; next = nextJob(jobs, next)) order.push(next);
  return order.map((id) => {
    const job = jobs[id] as GithubJob;
    const known = (step: GithubStep) =>
      step.run !== undefined ||
      /^(actions\/(checkout|setup-node|upload-artifact|download-artifact)|aws-actions\/configure-aws-credentials)@/.test(
        step.uses ?? '',
      );
    const unknown = job.steps.find((step) => !known(step));
    if (unknown) throw new Error(`${id}: the step runner does not know ${unknown.uses}`);
    return {
      name: id,
      manual: id.startsWith('approve-'),
      scripts: job.steps.flatMap((step) => (step.run === undefined ? [] : [step.run])),
      saves: job.steps
        .filter((step) => step.uses?.startsWith('actions/upload-artifact@'))
        .map((step) => String(step.with?.['path'])),
      restores: job.steps.some((step) => step.uses?.startsWith('actions/download-artifact@')),
    };
  });
}

function nextJob(jobs: Record<string, GithubJob>, after: string): string | undefined {
  return Object.keys(jobs).find((id) => jobs[id]?.needs?.length === 1 && jobs[id]?.needs?.[0] === after);
}

/** One pipeline run: the artifacts its steps saved, by path. */
export class PipelineRun {
  private readonly store = mkdtempSync(join(tmpdir(), 'stagecraft-ci-artifacts-'));
  private readonly saved = new Set<string>();

  constructor(
    private readonly origin: string,
    private readonly env: Record<string, string>,
  ) {}

  async run(step: CiStep, extraEnv: Record<string, string> = {}): Promise<StepResult> {
    const clone = mkdtempSync(join(tmpdir(), 'stagecraft-ci-step-'));
    try {
      git(['clone', '-q', this.origin, clone], tmpdir());
      if (step.restores)
        for (const path of this.saved) cpSync(join(this.store, path), join(clone, path), { recursive: true });
      let output = '';
      for (const script of step.scripts) {
        const result = await sh(script, clone, { ...this.env, ...extraEnv });
        output += result.output;
        if (result.code !== 0) return { step: step.name, code: result.code, output };
      }
      for (const path of step.saves) {
        if (!existsSync(join(clone, path)))
          return { step: step.name, code: 1, output: `${output}\nartifact ${path} was declared but not made` };
        mkdirSync(dirname(join(this.store, path)), { recursive: true });
        cpSync(join(clone, path), join(this.store, path), { recursive: true });
        this.saved.add(path);
      }
      return { step: step.name, code: 0, output };
    } finally {
      rmSync(clone, { recursive: true, force: true });
    }
  }

  remove(): void {
    rmSync(this.store, { recursive: true, force: true });
  }
}

export function git(args: string[], cwd: string): string {
  const result = spawnSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Ada',
      GIT_AUTHOR_EMAIL: 'ada@example.com',
      GIT_COMMITTER_NAME: 'Ada',
      GIT_COMMITTER_EMAIL: 'ada@example.com',
    },
  });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

function sh(script: string, cwd: string, env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    // An empty value unsets the variable: a step without secured AWS keys, say.
    const all = Object.fromEntries(
      Object.entries({ ...process.env, NO_COLOR: '1', ...env }).filter(([, value]) => value !== ''),
    );
    const child = spawn('bash', ['-e', '-c', script], { cwd, env: all, stdio: ['ignore', 'pipe', 'pipe'] });
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
}
