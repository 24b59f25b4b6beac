/**
 * What an execution environment starts: our Node bootstrap on the chosen Node binary for
 * `nodejsNN.x`, our Python bootstrap on the chosen interpreter for `python3.x`, or the function's
 * own executable `bootstrap` for OS-only runtimes (`provided*`), which Lambda runs from the code's root.
 * Every kind goes through the one launch path (runtime-process.ts), so what wraps it wraps them all.
 * https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Found next to this file both in src/ (under vitest) and in dist/ (tsc copies it, scripts/bundle.mjs makes it one file). */
export const NODE_BOOTSTRAP = fileURLToPath(new URL('./node-bootstrap.mjs', import.meta.url));

/** Our Python runtime (python-bootstrap/), copied next to this file into dist/ by scripts/bundle.mjs. */
export const PYTHON_BOOTSTRAP = fileURLToPath(new URL('./python-bootstrap/bootstrap.py', import.meta.url));

export type RuntimeKind = 'node' | 'python' | 'provided';

export function runtimeKind(runtime: string): RuntimeKind {
  if (runtime.startsWith('python')) return 'python';
  if (runtime === 'provided' || runtime.startsWith('provided.')) return 'provided';
  return 'node';
}

export function runtimeCommand(
  codeDir: string,
  memoryMb: number,
  binary: string | undefined,
  kind: RuntimeKind = binary === undefined ? 'provided' : 'node',
): { command: string; args: string[] } {
  if (kind === 'provided' || binary === undefined) return { command: join(codeDir, 'bootstrap'), args: [] };
  // -u: output unbuffered, so a print is in the log before the result is posted (awslambdaric
  // wraps stdout the same way); -B: no __pycache__ written into the code, read-only on Lambda.
  if (kind === 'python') return { command: binary, args: ['-u', '-B', PYTHON_BOOTSTRAP] };
  return { command: binary, args: [...nodeArguments(memoryMb), NODE_BOOTSTRAP] };
}

/**
 * V8 heap limits sized from the function's memory the way AWS's Node bootstrap does (a tenth for
 * the young generation, the rest for the old one), so running out of memory fails the same way.
 */
function nodeArguments(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  return [
    '--expose-gc',
    '--max-http-header-size=81920',
    `--max-semi-space-size=${Math.max(1, Math.floor(newSpace / 2))}`,
    `--max-old-space-size=${memoryMb - newSpace}`,
    '--enable-source-maps',
  ];
}

/** How Lambda words a `bootstrap` it cannot start (reported as Runtime.InvalidEntrypoint). */
export function entrypointProblem(error: NodeJS.ErrnoException, command: string): string {
  if (error.code === 'ENOENT') return `Couldn't find valid bootstrap(s): [${command}]`;
  return `fork/exec ${command}: ${error.code === 'EACCES' ? 'permission denied' : error.message}`;
}
