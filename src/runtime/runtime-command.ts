/**
 * What an execution environment starts: our Node bootstrap on the chosen Node binary for
 * `nodejsNN.x`, or the function's own executable `bootstrap` for OS-only runtimes (`provided*`),
 * which Lambda runs from the code's root.
 * https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Found next to this file both in src/ (under vitest) and in dist/ (tsc copies it, scripts/bundle.mjs makes it one file). */
export const NODE_BOOTSTRAP = fileURLToPath(new URL('./node-bootstrap.mjs', import.meta.url));

export function runtimeCommand(codeDir: string, memoryMb: number, nodeBinary: string | undefined): { command: string; args: string[] } {
  if (nodeBinary === undefined) return { command: join(codeDir, 'bootstrap'), args: [] };
  return { command: nodeBinary, args: [...nodeArguments(memoryMb), NODE_BOOTSTRAP] };
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
