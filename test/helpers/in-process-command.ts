/**
 * Runs one CLI command in-process on a fresh commander program over a throwaway app folder,
 * capturing stdout and stderr: for unit tests of a command's arguments and output. (The
 * spawned-CLI tests in test/ cover the same commands as people run them.)
 */
import { Command } from 'commander';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, vi } from 'vitest';

export interface CommandHarness {
  /** The app folder of the current test. */
  readonly dir: string;
  readonly stdout: string;
  readonly stderr: string;
  /** Runs `stagecraft <name> ...args --dir <dir>` and returns its exit code; stdout and stderr then hold this run's output. */
  run(...args: string[]): Promise<number>;
}

/**
 * Registers beforeEach/afterEach hooks that write `manifest` and a trivial handler for each of
 * `handlers` (e.g. `src/api.js`) into a new folder, and returns the harness for `name`.
 */
export function commandHarness(
  name: string,
  register: (program: Command) => void,
  manifest: string,
  handlers: string[],
): CommandHarness {
  const state = { dir: '', stdout: '', stderr: '' };
  beforeEach(() => {
    state.dir = mkdtempSync(join(tmpdir(), `stagecraft-${name}-`));
    writeFileSync(join(state.dir, 'stagecraft.yml'), manifest);
    mkdirSync(join(state.dir, 'src'));
    for (const file of handlers) writeFileSync(join(state.dir, file), 'export const handler = async () => null;\n');
    state.stdout = '';
    state.stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      state.stdout += String(chunk);
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      state.stderr += String(chunk);
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
    rmSync(state.dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return state.dir;
    },
    get stdout() {
      return state.stdout;
    },
    get stderr() {
      return state.stderr;
    },
    async run(...args) {
      const program = new Command('stagecraft').exitOverride();
      register(program);
      process.exitCode = undefined;
      state.stdout = '';
      state.stderr = '';
      await program.parseAsync(['node', 'stagecraft', name, ...args, '--dir', state.dir]);
      return Number(process.exitCode ?? 0);
    },
  };
}
