import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findMachinePath, resolveHandler } from './bundle.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('resolveHandler', () => {
  it('takes the first existing extension and keeps the path for the bundle, as Lambda splits handlers', () => {
    const appDir = mkdtempSync(join(tmpdir(), 'stagecraft-handler-'));
    dirs.push(appDir);
    mkdirSync(join(appDir, 'src'));
    writeFileSync(join(appDir, 'src/api.js'), '');
    writeFileSync(join(appDir, 'src/api.mjs'), '');
    expect(resolveHandler(appDir, 'api', 'src/api.handler')).toEqual({
      handler: 'src/api.handler',
      file: 'src/api.js',
      outfile: 'src/api.mjs',
      exportName: 'handler',
    });
    expect(resolveHandler(appDir, 'api', 'src/api.routes.get')).toMatchObject({
      file: 'src/api.js',
      exportName: 'routes',
    });
  });

  it('refuses handlers that are not <file>.<export> inside the app', () => {
    for (const handler of ['handler', 'src/api.', '../up.handler', '/abs/api.handler']) {
      expect(() => resolveHandler(tmpdir(), 'api', handler)).toThrow(/is not <file>\.<export>/);
    }
  });
});

describe('findMachinePath', () => {
  const inputs = ['src/api.ts', 'node_modules/x/index.js', '../shared/lib.ts'];

  it('finds the app folder followed by a bundled file', () => {
    expect(findMachinePath('// at /home/me/shop/src/api.ts:3', '/home/me/shop', inputs)).toBe('/home/me/shop/src/…');
    expect(findMachinePath('"/home/me/shop/node_modules/x"', '/home/me/shop', inputs)).toBe(
      '/home/me/shop/node_modules/…',
    );
  });

  it('ignores the same text when it is not a path into the app, such as a route', () => {
    expect(findMachinePath('app.get("/app/settings"); fetch("/app")', '/app', inputs)).toBeUndefined();
  });
});
