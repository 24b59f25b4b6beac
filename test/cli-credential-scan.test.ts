/**
 * The credential gate of `stagecraft build`, through the real CLI: an app with planted
 * credentials of every kind in the sources it bundles and in its manifest fails with file:line
 * and the rule for each, and nothing is written; findings let through by an allow comment or a
 * manifest entry are recorded in the release.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { plantedCredentials, plantedManifestLiterals, plantedServiceAccount } from './fixtures/credentials.js';
import { runCli } from './helpers/cli.js';

const planted = plantedCredentials();
const half = Math.ceil(planted.length / 2);
const literals = plantedManifestLiterals();

/** Declarations one after another, and the line each starts on. */
function module(parts: { code: string }[]): { text: string; lines: number[] } {
  const lines: number[] = [];
  let line = 1;
  for (const part of parts) {
    lines.push(line);
    line += part.code.split('\n').length;
  }
  return { text: `${parts.map((part) => part.code).join('\n')}\n`, lines };
}

function manifest(extra = ''): string {
  const [db, stripe, hook] = literals;
  return [
    'app: leaky',
    'runtime: nodejs20.x',
    'config:',
    `  ${stripe?.key}: ${stripe?.value}`,
    '  PAYMENT_KEY: "${secret:payment-key}"',
    'environments:',
    '  - name: prod',
    `    config: { ${db?.key}: ${db?.value} }`,
    'functions:',
    '  api:',
    '    handler: src/api.handler',
    `    config: { ${hook?.key}: ${hook?.value} }`,
    '  worker:',
    '    handler: src/worker.handler',
    extra,
  ].join('\n');
}

describe('build: the credential gate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-leaky-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (file: string, text: string) => {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), text);
  };
  const a = module(planted.slice(0, half));
  const b = module(planted.slice(half));
  write('stagecraft.yml', manifest());
  write('src/keys-a.ts', a.text);
  write('src/keys-b.ts', b.text);
  write('src/service-account.json', plantedServiceAccount());
  write(
    'src/api.ts',
    "import * as keys from './keys-a.js';\nimport account from './service-account.json';\nexport const handler = async () => Object.keys(keys).length + Object.keys(account).length;\n",
  );
  write(
    'src/worker.ts',
    "import * as keys from './keys-b.js';\nexport const handler = async () => Object.keys(keys).length;\n",
  );

  it(`fails on ${planted.length + 1 + literals.length} planted credentials with file:line and the rule of each, and writes no artifact`, async () => {
    const result = await runCli(['build', '--json', '--dir', dir]);
    expect(result.code, result.stderr).toBe(1);
    const { error } = result.json<{ error: { code: string; message: string; details: string[]; hint: string } }>();
    expect(error.code).toBe('CREDENTIAL_FOUND');
    expect(error.message).toMatch(/^\d+ committed credential\(s\) in 4 file\(s\); nothing was built$/);
    expect(error.hint).toContain('stagecraft-allow-secret');
    const expected = [
      ...planted.slice(0, half).map((credential, index) => `src/keys-a.ts:${a.lines[index]}:\\d+ ${credential.rule}:`),
      ...planted.slice(half).map((credential, index) => `src/keys-b.ts:${b.lines[index]}:\\d+ ${credential.rule}:`),
      'src/service-account.json:1:1 gcp:',
      'stagecraft.yml:4:\\d+ stagecraft/config-literal: literal value under the secret-looking key config.STRIPE_API_KEY',
      'stagecraft.yml:8:\\d+ stagecraft/config-literal: literal value under the secret-looking key environments\\[prod\\].config.DB_PASSWORD',
      'stagecraft.yml:12:\\d+ stagecraft/config-literal: literal value under the secret-looking key functions.api.config.webhookSecret',
    ];
    expect(expected.length).toBeGreaterThanOrEqual(15);
    for (const pattern of expected)
      expect(
        error.details.some((line) => new RegExp(`^${pattern}`).test(line)),
        pattern,
      ).toBe(true);
    expect(result.stderr).toContain('error: ');
    // The findings name where, never what: no planted value is printed.
    for (const { code } of planted)
      for (const value of code.match(/"([^"]{16,})"/g) ?? [])
        expect(result.stdout + result.stderr).not.toContain(value.slice(1, -1));
    for (const { value } of literals) expect(result.stdout + result.stderr).not.toContain(value);

    expect(
      existsSync(join(dir, '.stagecraft', 'artifacts')) ? readdirSync(join(dir, '.stagecraft', 'artifacts')) : [],
    ).toEqual([]);
    const status = (await runCli(['status', '--json', '--dir', dir])).json<{ latestRelease: string | null }>();
    expect(status.latestRelease).toBeNull();
    expect((await runCli(['history', '--json', '--dir', dir])).json<{ entries: unknown[] }>().entries).toEqual([]);
  });

  it('builds once every finding is moved out or allowed, and records the allowed ones in the release', async () => {
    const [aws, , github] = planted;
    write(
      'src/keys-a.ts',
      [
        `${github?.code}  // stagecraft-allow-secret: revoked token, kept to test the token parser`,
        'export const region = "eu-west-1";',
        aws?.code,
      ].join('\n'),
    );
    write('src/keys-b.ts', 'export const nothing = 1;\n');
    write(
      'src/api.ts',
      "import * as keys from './keys-a.js';\nexport const handler = async () => Object.keys(keys).length;\n",
    );
    write(
      'stagecraft.yml',
      manifest(
        [
          'credentials:',
          '  allow:',
          '    - { file: src/keys-a.ts, rule: aws, reason: "AWS documentation example key of the SDK test" }',
        ].join('\n'),
      )
        .replace(/ {2}STRIPE_API_KEY: \S+/, '  STRIPE_API_KEY: "${secret:stripe}"')
        .replace(/DB_PASSWORD: [^ }]+/, 'DB_PASSWORD: "${secret:db}"')
        .replace(/webhookSecret: [^ }]+/, 'webhookSecret: "${env:HOOK_SECRET}"'),
    );

    const built = await runCli(['build', '--json', '--dir', dir]);
    expect(built.code, built.stderr).toBe(0);
    const result = built.json<{ release: string; allowedCredentials: unknown[]; scannedFiles: number }>();
    expect(result.scannedFiles).toBe(5); // api, keys-a, worker, keys-b and the manifest
    expect(result.allowedCredentials).toEqual([
      {
        file: 'src/keys-a.ts',
        line: 1,
        rule: '@secretlint/secretlint-rule-github',
        allowedBy: 'comment',
        reason: 'revoked token, kept to test the token parser',
      },
      {
        file: 'src/keys-a.ts',
        line: 3,
        rule: '@secretlint/secretlint-rule-aws',
        allowedBy: 'manifest',
        reason: 'AWS documentation example key of the SDK test',
      },
    ]);
    expect(built.stderr).toContain(
      'credential scan: src/keys-a.ts:1 @secretlint/secretlint-rule-github let through by comment',
    );
    const { entries } = (await runCli(['history', '--json', '--dir', dir])).json<{
      entries: { kind: string; releaseId: string; detail: Record<string, unknown> }[];
    }>();
    expect(entries.find((entry) => entry.kind === 'release.built')).toMatchObject({
      releaseId: result.release,
      detail: {
        allowedCredentials: [
          'src/keys-a.ts:1 @secretlint/secretlint-rule-github',
          'src/keys-a.ts:3 @secretlint/secretlint-rule-aws',
        ],
      },
    });
    expect(readdirSync(join(dir, '.stagecraft', 'artifacts')).length).toBe(2);
  });

  it('rejects an allowlist entry without a reason as invalid manifest input', async () => {
    write('stagecraft.yml', `${manifest()}credentials:\n  allow:\n    - { file: src/keys-a.ts }\n`);
    const result = await runCli(['validate', '--dir', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /stagecraft\.yml:\d+:\d+ credentials\.allow\[0\]\.reason: missing: expected a reason/,
    );
  });
});
