/**
 * Invalid input changes nothing (DESIGN §5, invariant 8): every kind of bad manifest makes
 * validate, build and deploy exit 2 with file:line:column and key path, and leaves the state
 * database byte-for-byte as it was.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';

const digestOf = (path: string) =>
  existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : 'absent';

const BAD: Record<string, { edit: (manifest: string) => string; expect: RegExp }> = {
  'unknown key': {
    edit: (m) => m.replace('    timeout: 5\n', '    timeout: 5\n    memroy: 256\n'),
    expect: /stagecraft\.yml:\d+:5 functions\.hello\.memroy: unknown key "memroy"; valid keys here: handler, runtime/,
  },
  'wrong type': {
    edit: (m) => m.replace('    timeout: 5\n', '    timeout: [5]\n'),
    expect:
      /stagecraft\.yml:\d+:14 functions\.hello\.timeout: expected a timeout from 1 to 900 seconds, e\.g\. 10 or 30s, found a list/,
  },
  'dangling reference': {
    edit: (m) => m.replace('      - http: GET /hello\n', '      - http: GET /hello\n      - queue: orders\n'),
    expect:
      /stagecraft\.yml:\d+:16 functions\.hello\.events\[1\]\.queue: queue:orders does not exist; declared queues: \(none\)/,
  },
  'bad duration': {
    edit: (m) => m.replace('  - name: staging\n', '  - name: staging\n    soak: 3 days\n'),
    expect:
      /stagecraft\.yml:\d+:11 environments\[1\]\.soak: expected a soak time such as 30s, 5m, 72h or 1h30m, found "3 days"/,
  },
  'bad policy': {
    edit: (m) => m.replace('    approval: manual\n', '    approval: manual\n    deployment: canary 10%\n'),
    expect:
      /stagecraft\.yml:\d+:17 environments\[2\]\.deployment: expected `allAtOnce`, `canary <pct>% <duration>`, `linear <pct>% every <duration>` or an AWS name such as Canary10Percent5Minutes, found "canary 10%"/,
  },
  'duplicate environment': {
    edit: (m) => m.replace('  - name: staging\n', '  - name: staging\n  - name: dev\n'),
    expect: /stagecraft\.yml:\d+:11 environments\[2\]\.name: environment "dev" is declared twice/,
  },
  'environment variables over 4 KB': {
    edit: (m) =>
      m.replace('    config: { FN_ONLY: yes }\n', `    config: { FN_ONLY: yes, BIG_BLOB: ${'b'.repeat(4200)} }\n`),
    expect:
      /stagecraft\.yml:\d+:\d+ functions\.hello\.config: in environment dev: environment variables take 42\d\d bytes, over Lambda's 4096-byte \(4 KB\) total; largest: BIG_BLOB \(4213 bytes\), GREETING/,
  },
  'invalid YAML': {
    edit: (m) => m.replace('functions:\n', 'functions:\n  hello: { handler: [\n'),
    expect: /stagecraft\.yml:\d+:\d+ invalid YAML: /,
  },
};

describe('bad manifests change nothing', () => {
  const app = copyApp('basic');
  const original = app.read('stagecraft.yml');
  const db = join(app.dir, '.stagecraft', 'state.db');
  let before: string;

  beforeAll(async () => {
    const built = await runCli(['build', '--dir', app.dir]);
    expect(built.code, built.stderr).toBe(0);
    const deployed = await runCli(['deploy', 'dev', '--dir', app.dir]);
    expect(deployed.code, deployed.stderr).toBe(0);
    before = digestOf(db);
    expect(existsSync(`${db}-wal`) ? readFileSync(`${db}-wal`).length : 0).toBe(0);
  });
  afterAll(() => app.remove());

  for (const [kind, { edit, expect: message }] of Object.entries(BAD)) {
    it(`${kind}: exit 2 with the position, for validate, build and deploy`, async () => {
      app.write('stagecraft.yml', edit(original));
      expect(app.read('stagecraft.yml')).not.toBe(original);
      for (const args of [['validate'], ['build'], ['deploy', 'staging']]) {
        const result = await runCli([...args, '--dir', app.dir]);
        expect(result.code, `${args[0]}: ${result.stderr}`).toBe(2);
        expect(result.stderr).toMatch(message);
        expect(result.stderr).toMatch(/hint: /);
        expect(result.stdout).toBe('');
        expect(digestOf(db)).toBe(before);
      }
      const json = await runCli(['validate', '--json', '--dir', app.dir]);
      expect(json.code).toBe(2);
      expect(json.json()).toMatchObject({ ok: false, error: { code: 'MANIFEST_INVALID', kind: 'invalid' } });
      app.write('stagecraft.yml', original);
    });
  }

  it('bad arguments are invalid input too, and change nothing', async () => {
    for (const args of [
      ['deploy', 'nowhere'],
      ['deploy', 'dev', '--release', 'r99'],
      ['invoke', 'nobody', '--env', 'dev'],
      ['history', '--limit', 'x'],
      ['deploy'],
      ['frobnicate'],
    ]) {
      const result = await runCli([...args, '--dir', app.dir]);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(digestOf(db)).toBe(before);
    }
    const unknownEnv = await runCli(['deploy', 'nowhere', '--dir', app.dir]);
    expect(unknownEnv.stderr).toContain('no environment "nowhere" in basic');
    expect(unknownEnv.stderr).toContain('hint: environments: dev, staging, prod');
  });

  it('a folder without a manifest (nor one above it) says how to make one', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'stagecraft-empty-'));
    try {
      const result = await runCli(['validate', '--dir', empty]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /no stagecraft\.yml in .*stagecraft-empty-\w+ or any folder above it\nhint: run `stagecraft init`/,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
