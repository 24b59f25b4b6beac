/**
 * `stagecraft ci`: the three pipelines validate against their CI's own schema or parser
 * (test/fixtures/ci-schemas/README.md says where each comes from), the same manifest gives the
 * same bytes, `--write` writes where the CI reads and `--check` fails once the file differs.
 */
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { copyApp, ROOT, runCli } from './helpers/cli.js';

const SCHEMAS = join(ROOT, 'test', 'fixtures', 'ci-schemas');
const SHARED =
  'provider: aws\nstate: { backend: dynamodb, table: promo-state }\nephemeral: { from: dev }\nci: { install: npm ci, lint: npm run lint, test: npm test, branchEnvironments: true }\nruntime:';

function schemaCheck(file: string): (document: unknown) => string[] {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const validate = ajv.compile(JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8')) as object);
  return (document) =>
    validate(document) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message ?? ''}`);
}

describe('stagecraft ci', () => {
  const app = copyApp('promo');
  app.write('stagecraft.yml', app.read('stagecraft.yml').replace(/^runtime:/m, SHARED));
  afterAll(() => app.remove());
  const generate = async (kind: string) => {
    const result = await runCli(['ci', kind, '--dir', app.dir]);
    expect(result.code, result.stderr).toBe(0);
    return result.stdout;
  };

  it('generates the same bytes for the same manifest, with a comment above every command', async () => {
    for (const kind of ['bitbucket', 'github', 'gitlab']) {
      const first = await generate(kind);
      expect(await generate(kind)).toBe(first);
      const lines = first.split('\n');
      lines.forEach((line, index) => {
        if (/^\s*- (run: )?'?(npx stagecraft|npm )/.test(line))
          expect(lines[index - 1], `${kind}: ${line}`).toMatch(/^\s*# \S/);
      });
      // Only the checks and the main build build: promote and approve steps take the built release.
      expect(first.match(/stagecraft build/g), kind).toHaveLength(2);
    }
  });

  it("Bitbucket: valid against SchemaStore's schema; main builds once, promotes to staging, prod is a manual deployment step", async () => {
    const text = await generate('bitbucket');
    const document = parse(text) as { pipelines: { branches: { main: { step: Record<string, unknown> }[] } } };
    expect(schemaCheck('bitbucket-pipelines.json')(document)).toEqual([]);
    const steps = document.pipelines.branches.main.map((entry) => entry.step);
    expect(steps.map((step) => [step['name'], step['trigger'] ?? 'auto', step['deployment'] ?? null])).toEqual([
      ['build', 'auto', null],
      ['promote to staging', 'auto', 'staging'],
      ['approve prod', 'manual', 'prod'],
    ]);
    expect(steps[0]?.['artifacts']).toEqual(['.stagecraft-ci/release']);
    expect(steps[2]?.['script']).toContain('npx stagecraft approve prod --release "$(cat .stagecraft-ci/release)"');
    // A schema error is reported: the check can fail.
    expect(
      schemaCheck('bitbucket-pipelines.json')({
        pipelines: { default: [{ step: { name: 'x', script: 'not a list' } }] },
      }),
    ).not.toEqual([]);
  });

  it("GitLab: valid against GitLab's schema; manual approve-prod job with environment prod and OIDC id_tokens", async () => {
    const text = await generate('gitlab');
    const document = parse(text) as Record<string, Record<string, unknown>>;
    expect(schemaCheck('gitlab-ci.json')(document)).toEqual([]);
    expect(document['approve-prod']).toMatchObject({
      when: 'manual',
      environment: { name: 'prod' },
      needs: ['build', 'promote'],
      id_tokens: { AWS_ID_TOKEN: { aud: 'sts.amazonaws.com' } },
    });
    expect(document['build']).toMatchObject({ artifacts: { paths: ['.stagecraft-ci/release'] } });
    expect(schemaCheck('gitlab-ci.json')({ job: { script: ['x'], when: 'sometimes' } })).not.toEqual([]);
  });

  it('GitHub: accepted by @actions/workflow-parser; approve-prod runs in environment prod after promote', async () => {
    const text = await generate('github');
    const errorsOf = async (content: string) => {
      const parsed = parseWorkflow({ name: 'stagecraft.yml', content }, new NoOperationTraceWriter());
      const template = parsed.value ? await convertWorkflowTemplate(parsed.context, parsed.value) : undefined;
      return [
        ...parsed.context.errors.getErrors().map((error) => error.message),
        ...(template?.errors ?? []).map((error) => error.Message),
      ];
    };
    expect(await errorsOf(text)).toEqual([]);
    const document = parse(text) as {
      permissions: Record<string, string>;
      jobs: Record<string, Record<string, unknown>>;
    };
    expect(document.permissions['id-token']).toBe('write');
    expect(Object.keys(document.jobs)).toEqual([
      'check',
      'branch-environment',
      'build',
      'promote',
      'approve-prod',
      'gc',
    ]);
    expect(document.jobs['approve-prod']).toMatchObject({ environment: 'prod', needs: ['promote'] });
    expect(
      await errorsOf(text.replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-latest\n    timeout: 5')),
    ).not.toEqual([]);
  });

  it('--write writes where the CI reads; --check passes, then fails (exit 1) once the file is edited', async () => {
    for (const [kind, file] of [
      ['bitbucket', 'bitbucket-pipelines.yml'],
      ['github', '.github/workflows/stagecraft.yml'],
      ['gitlab', '.gitlab-ci.yml'],
    ] as const) {
      expect((await runCli(['ci', kind, '--write', '--dir', app.dir])).code).toBe(0);
      expect(app.read(file)).toBe(await generate(kind));
      expect((await runCli(['ci', kind, '--check', '--dir', app.dir])).code).toBe(0);
      app.write(file, app.read(file).replace('npx stagecraft validate', 'true'));
      const stale = await runCli(['ci', kind, '--check', '--dir', app.dir]);
      expect(stale.code).toBe(1);
      expect(stale.stdout).toMatch(/differs from what stagecraft\.yml generates \(first at line \d+\)/);
    }
  });

  it('the README\'s "Delivering from CI" shows the Bitbucket pipeline its manifest generates, whole', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Delivering from CI'));
    const [manifest, pipeline] = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
    const shown = copyApp('ci-chain');
    try {
      shown.write('stagecraft.yml', manifest ?? '');
      shown.write('src/api.mjs', 'export const handler = async () => ({ statusCode: 200 });\n');
      const result = await runCli(['ci', 'bitbucket', '--dir', shown.dir]);
      expect(result.code, result.stderr).toBe(0);
      expect(pipeline).toBe(result.stdout);
    } finally {
      shown.remove();
    }
  });

  it('refuses (exit 2) an app without shared state, and an unknown CI', async () => {
    const local = copyApp('promo');
    try {
      const result = await runCli(['ci', 'gitlab', '--dir', local.dir]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('state: { backend: dynamodb');
      expect((await runCli(['ci', 'jenkins', '--dir', app.dir])).code).toBe(2);
    } finally {
      local.remove();
    }
  });
});
