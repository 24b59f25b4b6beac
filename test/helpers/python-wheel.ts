/**
 * A wheel of the tiny fixture package (test/fixtures/python-wheel/tinydep) at any version, built by
 * `pip wheel`: Python build tests install it with --no-index --find-links, as no index is reachable.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './cli.js';

/** A wheel of tinydep at `version`, built by pip from the fixture's source into `into`. */
export function buildWheel(version: string, into: string): void {
  const source = mkdtempSync(join(tmpdir(), 'stagecraft-wheel-'));
  cpSync(join(ROOT, 'test', 'fixtures', 'python-wheel', 'tinydep'), source, { recursive: true });
  for (const file of ['pyproject.toml', 'tinydep/__init__.py']) {
    const path = join(source, file);
    writeFileSync(path, readFileSync(path, 'utf8').replaceAll('1.0.0', version));
  }
  execFileSync('python3', ['-m', 'pip', 'wheel', '--no-deps', '--quiet', '--wheel-dir', into, source], {
    stdio: 'ignore',
  });
  rmSync(source, { recursive: true, force: true });
}
