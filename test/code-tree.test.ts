/**
 * Unpacked code is checked against the digest taken when it was unpacked: an edit under
 * .stagecraft/code/ is reported by doctor and undone before it runs; the tree is read-only.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';

describe('unpacked code', () => {
  const app = copyApp('basic');
  afterAll(() => app.remove());
  const cli = (...args: string[]) => runCli([...args, '--dir', app.dir]);

  it('a handler edited in .stagecraft/code is found by doctor, and invoke runs the original', async () => {
    expect((await cli('build')).code).toBe(0);
    expect((await cli('deploy', 'dev')).code).toBe(0);
    const first = await cli('invoke', 'hello', '--env', 'dev', '--json', '--data', '{"name":"Ada"}');
    expect(first.code, first.stderr).toBe(0);
    expect(first.json<{ payload: { body: string } }>().payload.body).toBe('hello from dev, Ada');

    const codeDir = join(app.dir, '.stagecraft', 'code');
    const trees = readdirSync(codeDir).filter((name) => /^[0-9a-f]{64}$/.test(name));
    const tree = trees
      .map((sha) => join(codeDir, sha))
      .find((dir) => readdirSync(dir, { recursive: true }).some((file) => String(file).includes('hello')));
    expect(tree).toBeDefined();
    const file =
      readdirSync(tree ?? '', { recursive: true })
        .map((name) => join(tree ?? '', String(name)))
        .find(
          (path) =>
            statSync(path).isFile() &&
            readFileSync(path, 'utf8').includes('hello from') === false &&
            /\.(m?js|cjs)$/.test(path),
        ) ?? '';
    expect(statSync(file).mode & 0o222).toBe(0); // read-only, like Lambda's /var/task
    expect(statSync(tree ?? '').mode & 0o222).toBe(0);
    // As `sed -i` would: the handler now answers something else.
    writeFileSync(file, readFileSync(file, 'utf8').replace(/greet\(/g, '"TAMPERED" + greet('));

    const doctor = await cli('doctor');
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/FAIL +code +unpacked code differs from its artifact/);
    expect(doctor.stdout).toContain(`${tree}: its files were changed after it was unpacked`);

    const second = await cli('invoke', 'hello', '--env', 'dev', '--json', '--data', '{"name":"Ada"}');
    expect(second.code, second.stderr).toBe(0);
    expect(second.json<{ payload: { body: string } }>().payload.body).toBe('hello from dev, Ada');
    expect(second.stderr).toMatch(/its files were changed after it was unpacked; unpacked again from its artifact/);
    expect((await cli('doctor')).code).toBe(0);
  }, 60_000);
});
