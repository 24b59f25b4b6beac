/**
 * Runs the built CLI (`dist/cli/main.js`) as a real process, the way people and CI run it,
 * and copies fixture apps into fresh temporary folders so tests never share state.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs); throws with the output when it is not JSON. */
  json<T = Record<string, unknown>>(): T;
}

export function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', STAGECRAFT_ACTOR: 'test-runner', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({
        code: code ?? -1,
        stdout,
        stderr,
        json<T>() {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(`stdout is not one JSON document:\n${stdout}\n--- stderr ---\n${stderr}`);
          }
        },
      });
    });
    child.stdin.end(options.input ?? '');
  });
}

/**
 * A fresh copy of `test/fixtures/apps/<name>` (or of any folder) in a temporary directory.
 * `insideRepo` puts it under `.tmp-apps/` in this repository instead, so that an app with npm
 * dependencies (examples/shop) resolves them from the repository's node_modules.
 */
export function copyApp(
  source: string,
  options: { insideRepo?: boolean } = {},
): { dir: string; write(file: string, text: string): void; read(file: string): string; remove(): void } {
  const from = source.includes('/') ? resolve(ROOT, source) : join(ROOT, 'test', 'fixtures', 'apps', source);
  const parent = options.insideRepo ? join(ROOT, '.tmp-apps') : tmpdir();
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(join(parent, 'stagecraft-test-'));
  cpSync(from, dir, { recursive: true, filter: (path) => !path.includes('.stagecraft') });
  return {
    dir,
    write: (file, text) => writeFileSync(join(dir, file), text),
    read: (file) => readFileSync(join(dir, file), 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
