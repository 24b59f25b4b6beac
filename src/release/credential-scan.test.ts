/**
 * The credential scan on its own: every planted kind is caught at its file and line by the
 * rule expected, allow comments and manifest entries let findings through on the record, and
 * Stagecraft's own sources and examples hold nothing it would stop.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { plantedCredentials, plantedManifestLiterals, plantedServiceAccount } from '../../test/fixtures/credentials.js';
import { CONFIG_LITERAL_RULE, scanForCredentials, shortRule } from './credential-scan.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'stagecraft-scan-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** The planted module: one declaration after another; returns each one's first line. */
function plantedModule(): { text: string; lines: number[] } {
  let line = 1;
  const lines: number[] = [];
  const parts: string[] = [];
  for (const planted of plantedCredentials()) {
    lines.push(line);
    parts.push(planted.code);
    line += planted.code.split('\n').length;
  }
  return { text: `${parts.join('\n')}\n`, lines };
}

function manifestWithLiterals(): string {
  const [db, stripe, hook] = plantedManifestLiterals();
  return [
    'app: leaky',
    'config:',
    `  ${stripe?.key}: ${stripe?.value}`,
    '  TOKEN_TTL: 3600',
    '  PAYMENT_KEY: "${secret:payment-key}"',
    'environments:',
    '  - name: prod',
    `    config: { ${db?.key}: ${db?.value}, DB_PASSWORD_MIN_LENGTH: 12 }`,
    'functions:',
    '  api:',
    '    handler: src/api.handler',
    `    config: { ${hook?.key}: ${hook?.value}, SECRET_ARN: "arn:aws:secretsmanager:us-east-1:000000000000:secret:x" }`,
    '',
  ].join('\n');
}

describe('credential scan', () => {
  it(`catches each of ${plantedCredentials().length + 1 + plantedManifestLiterals().length} planted credentials of different kinds, at its line, by the expected rule`, async () => {
    const planted = plantedCredentials();
    const { text, lines } = plantedModule();
    const dir = folder({
      'planted.ts': text,
      'service-account.json': plantedServiceAccount(),
      'stagecraft.yml': manifestWithLiterals(),
    });
    const scan = await scanForCredentials({
      root: dir,
      files: ['planted.ts', 'service-account.json'],
      manifest: 'stagecraft.yml',
    });
    for (const [index, credential] of planted.entries()) {
      const found = scan.findings.filter((finding) => finding.file === 'planted.ts' && finding.line === lines[index]);
      expect(
        found.map((finding) => shortRule(finding.rule)),
        credential.kind,
      ).toContain(credential.rule);
    }
    expect(
      scan.findings
        .filter((finding) => finding.file === 'service-account.json')
        .map((finding) => shortRule(finding.rule)),
    ).toContain('gcp');
    const literals = scan.findings.filter((finding) => finding.rule === CONFIG_LITERAL_RULE);
    expect(literals.map((finding) => [finding.line, finding.message.match(/key (\S+);/)?.[1]])).toEqual([
      [3, 'config.STRIPE_API_KEY'],
      [8, 'environments[prod].config.DB_PASSWORD'],
      [12, 'functions.api.config.webhookSecret'],
    ]);
    const kinds = new Set([
      ...planted.map((credential) => credential.kind),
      'GCP service account key',
      'manifest literal',
    ]);
    expect(kinds.size).toBeGreaterThanOrEqual(15);
    // Every message masks the value it found.
    const values = [...text.matchAll(/"([^"]{12,})"/g)].map((match) => match[1] as string);
    for (const finding of scan.findings) for (const value of values) expect(finding.message).not.toContain(value);
    expect(scan.allowed).toEqual([]);
  });

  it('lets a finding through with a stagecraft-allow-secret comment or a manifest entry, and says which and why', async () => {
    const [, , github, , slack] = plantedCredentials();
    const dir = folder({
      'a.ts': [
        `${github?.code} // stagecraft-allow-secret: revoked token kept for the parser test`,
        '// stagecraft-allow-secret: the Slack docs sample',
        slack?.code,
        github?.code.replace('githubToken', 'other'),
      ].join('\n'),
    });
    const scan = await scanForCredentials({
      root: dir,
      files: ['a.ts'],
      allow: [{ file: 'a.ts', rule: 'github', line: 4, reason: 'a fixture of the token parser' }],
    });
    expect(scan.findings).toEqual([]);
    expect(scan.allowed).toEqual([
      {
        file: 'a.ts',
        line: 1,
        rule: '@secretlint/secretlint-rule-github',
        allowedBy: 'comment',
        reason: 'revoked token kept for the parser test',
      },
      {
        file: 'a.ts',
        line: 3,
        rule: '@secretlint/secretlint-rule-slack',
        allowedBy: 'comment',
        reason: 'the Slack docs sample',
      },
      {
        file: 'a.ts',
        line: 4,
        rule: '@secretlint/secretlint-rule-github',
        allowedBy: 'manifest',
        reason: 'a fixture of the token parser',
      },
    ]);
    // An entry for another line or rule lets nothing through; secretlint's own disable comment neither.
    const strict = await scanForCredentials({
      root: dir,
      files: ['a.ts'],
      allow: [{ file: 'a.ts', rule: 'slack', line: 4, reason: 'wrong line' }],
    });
    expect(strict.findings.map((finding) => finding.line)).toEqual([4]);
    writeFileSync(join(dir, 'b.ts'), `${github?.code} // secretlint-disable-line\n`);
    expect((await scanForCredentials({ root: dir, files: ['b.ts'] })).findings).toHaveLength(1);
  });

  it('leaves references, dependencies and binary files alone', async () => {
    const dir = folder({
      'refs.ts': 'export const url = "postgres://app:${secret:db-password}@db.internal:5432/app";\n',
      'stagecraft.yml':
        'config:\n  DB_PASSWORD: "${secret:db}"\n  API_TOKEN: "${env:API_TOKEN}"\n  AUTH_HEADER: Authorization\n',
    });
    const scan = await scanForCredentials({
      root: dir,
      files: ['refs.ts', 'node_modules/x/index.js'],
      manifest: 'stagecraft.yml',
    });
    expect(scan.findings).toEqual([]);
    expect(scan.files).toBe(2);
  });

  it("leaves no performance marks behind: secretlint's profiler, whose cost grows with every mark, is off", async () => {
    performance.clearMarks();
    const { text } = plantedModule();
    const files = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`m${i}.ts`, text]));
    const scan = await scanForCredentials({ root: folder(files), files: Object.keys(files) });
    expect(scan.findings.length).toBeGreaterThan(0);
    expect(performance.getEntriesByType('mark').map((mark) => mark.name)).toEqual([]);
  });

  it('remembers a result for the same files, scanner and allowlist, and scans again when any of them changes', async () => {
    const [, , github] = plantedCredentials();
    const dir = folder({ 'a.ts': 'export const a = 1;\n' });
    const cacheFile = join(dir, 'cache', 'scan.json');
    const options = { root: dir, files: ['a.ts'], cacheFile };
    expect((await scanForCredentials(options)).findings).toEqual([]);
    // A remembered result is returned as it was stored: mark it to see that it is the one used.
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { key: string; scan: { files: number } };
    writeFileSync(cacheFile, JSON.stringify({ ...cached, scan: { ...cached.scan, files: 42 } }));
    expect((await scanForCredentials(options)).files).toBe(42);
    writeFileSync(join(dir, 'a.ts'), `${github?.code}\n`);
    expect((await scanForCredentials(options)).findings.map((finding) => shortRule(finding.rule))).toEqual(['github']);
    const allowed = await scanForCredentials({ ...options, allow: [{ file: 'a.ts', reason: 'a test token' }] });
    expect(allowed.findings).toEqual([]);
    expect(allowed.allowed).toHaveLength(1);
  });

  it('lints again only the files whose content changed since the last scan, and trusts no other scanner', async () => {
    const [, , github] = plantedCredentials();
    const dir = folder({
      'a.ts': 'export const a = 1;\n',
      'b.ts': 'export const b = 2;\n',
      'stagecraft.yml': 'app: x\n',
    });
    const cacheFile = join(dir, 'cache', 'scan.json');
    const options = { root: dir, files: ['a.ts', 'b.ts'], manifest: 'stagecraft.yml', cacheFile };
    expect((await scanForCredentials(options)).findings).toEqual([]);
    // Plant a remembered finding for b.ts's current content: it is reported only if b.ts is not linted again.
    type Remembered = { memo: Record<string, { rule: string; message: string; line: number; column: number }[]> };
    const remembered = JSON.parse(readFileSync(cacheFile, 'utf8')) as Remembered;
    const bKey = Object.keys(remembered.memo).find((key) => key.startsWith('b.ts\0')) ?? '';
    const planted = { rule: 'planted', message: 'remembered', line: 1, column: 1, text: 'x' };
    remembered.memo[bKey] = [planted];
    writeFileSync(cacheFile, JSON.stringify(remembered));
    writeFileSync(join(dir, 'a.ts'), `${github?.code}\n`);
    const again = await scanForCredentials(options);
    expect(again.findings.map((finding) => `${finding.file} ${shortRule(finding.rule)}`)).toEqual([
      'a.ts github',
      'b.ts planted',
    ]);
    // Findings remembered from another scanner are not trusted: everything is linted again.
    const other = JSON.parse(readFileSync(cacheFile, 'utf8')) as Remembered & { scanner: unknown };
    writeFileSync(cacheFile, JSON.stringify({ ...other, key: 'stale', scanner: { format: 0 } }));
    expect((await scanForCredentials(options)).findings.map((finding) => finding.file)).toEqual(['a.ts']);
  });

  it("reports nothing on Stagecraft's own src/ and examples/", async () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        if (name === 'node_modules' || name === '.stagecraft') continue;
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(relative(ROOT, path));
      }
    };
    walk(join(ROOT, 'src'));
    walk(join(ROOT, 'examples'));
    const scan = await scanForCredentials({ root: ROOT, files, manifest: 'examples/shop/stagecraft.yml' });
    expect(files.length).toBeGreaterThan(100);
    expect(scan.findings).toEqual([]);
    expect(scan.allowed).toEqual([]);
  }, 60_000);
});
