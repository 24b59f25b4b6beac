import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandRewriter, invocationName } from './invocation.js';

const root = mkdtempSync(join(tmpdir(), 'stagecraft-invocation-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const script = join(root, 'pkg', 'dist', 'cli', 'main.js');
mkdirSync(join(root, 'pkg', 'dist', 'cli'), { recursive: true });
writeFileSync(script, '');

describe('invocationName: the hints name a command that works from here', () => {
  it('is `stagecraft` when that name on PATH is this program (npm link, a global install)', () => {
    const bin = join(root, 'global-bin');
    mkdirSync(bin);
    symlinkSync(script, join(bin, 'stagecraft'));
    expect(invocationName({ script, path: `/nowhere:${bin}`, cwd: root })).toBe('stagecraft');
  });

  it('is `npx stagecraft` when only the project has it', () => {
    const app = join(root, 'app');
    mkdirSync(join(app, 'node_modules', '.bin'), { recursive: true });
    symlinkSync(script, join(app, 'node_modules', '.bin', 'stagecraft'));
    expect(invocationName({ script, path: '/usr/bin', cwd: app })).toBe('npx stagecraft');
  });

  it('is `node <path>` otherwise, and not a `stagecraft` on PATH that is another program', () => {
    const other = join(root, 'other-bin');
    mkdirSync(other);
    writeFileSync(join(other, 'stagecraft'), '#!/bin/sh\n');
    expect(invocationName({ script, path: other, cwd: join(root, 'pkg') })).toBe('node dist/cli/main.js');
  });
});

describe('commandRewriter', () => {
  it('rewrites every suggested command and nothing else', () => {
    const say = commandRewriter(() => 'npx stagecraft');
    expect(say('run `stagecraft approve prod`, then stagecraft status')).toBe(
      'run `npx stagecraft approve prod`, then npx stagecraft status',
    );
    expect(say('see stagecraft.yml and ~/.config/stagecraft/secret.key')).toBe(
      'see stagecraft.yml and ~/.config/stagecraft/secret.key',
    );
  });

  it('looks up the name once, and only when a message needs it', () => {
    let lookups = 0;
    const say = commandRewriter(() => (lookups++, 'stagecraft'));
    say('nothing to rewrite');
    expect(lookups).toBe(0);
    say('`stagecraft build`');
    say('`stagecraft build`');
    expect(lookups).toBe(1);
  });
});
