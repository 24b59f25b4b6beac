/**
 * Hostile manifests get a clear error (exit 2, file:line), never a stack trace or a hang: alias
 * bombs, files that are not regular files or are too large, handlers outside the app, and
 * control characters in key names.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyApp, runCli } from './helpers/cli.js';

describe('hostile manifests', () => {
  const app = copyApp('basic');
  const manifest = join(app.dir, 'stagecraft.yml');
  const original = app.read('stagecraft.yml');
  afterAll(() => app.remove());
  const validate = () => runCli(['validate', '--dir', app.dir], { timeoutMs: 20_000 });
  const noStack = (stderr: string) => expect(stderr).not.toMatch(/internal error|This is a bug|\n\s+at /);

  it('an alias bomb (billion laughs) is exit 2 at its line: too many aliases', async () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let level = 1; level < 9; level++)
      levels.push(
        `${String.fromCharCode(97 + level)}: &${String.fromCharCode(97 + level)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + level)}`)
          .join(',')}]`,
      );
    app.write('stagecraft.yml', `${original}x-bomb:\n${levels.map((line) => `  ${line}`).join('\n')}\n`);
    const result = await validate();
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/stagecraft\.yml:\d+:\d+ too many aliases/);
    noStack(result.stderr);
    app.write('stagecraft.yml', original);
  });

  it('a device, a FIFO or a file over the size limit is refused at once', async () => {
    rmSync(manifest);
    symlinkSync('/dev/zero', manifest);
    const device = await validate();
    expect(device.code).toBe(2);
    expect(device.stderr).toMatch(/stagecraft\.yml is not a regular file/);
    rmSync(manifest);
    execFileSync('mkfifo', [manifest]);
    const fifo = await validate();
    expect(fifo.code).toBe(2);
    expect(fifo.stderr).toMatch(/stagecraft\.yml is not a regular file/);
    rmSync(manifest);
    app.write('stagecraft.yml', `${original}# ${'x'.repeat(5 * 1024 * 1024)}\n`);
    const large = await validate();
    expect(large.code).toBe(2);
    expect(large.stderr).toMatch(/stagecraft\.yml is \d+ bytes; a manifest may be at most 1048576 bytes/);
    noStack(large.stderr);
    app.write('stagecraft.yml', original);
  });

  it('a handler outside the app folder is invalid for validate and build alike', async () => {
    app.write('stagecraft.yml', original.replace('handler: src/echo.handler', 'handler: ../outside.handler'));
    const result = await validate();
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/stagecraft\.yml:\d+:\d+ functions\.echo\.handler: .*inside the app folder/);
    const build = await runCli(['build', '--dir', app.dir]);
    expect(build.code).toBe(2);
    expect(build.stderr).toMatch(/functions\.echo\.handler: .*inside the app folder/);
    app.write('stagecraft.yml', original);
  });

  it('control characters in a key name are escaped in the message, as values are', async () => {
    app.write('stagecraft.yml', `${original}"bad\\e[31mkey": 1\n`);
    const result = await validate();
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain('\u001b');
    expect(result.stderr).toContain('bad\\u001b[31mkey');
    app.write('stagecraft.yml', original);
  });
});
