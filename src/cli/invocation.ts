/**
 * How this command line was reached, so the commands a hint suggests are ones that work: `stagecraft`
 * only when that name on PATH is this very program (a global install or `npm link`), `npx stagecraft`
 * when the project has it in node_modules/.bin, else `node <path to main.js>`.
 */
import { existsSync, realpathSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';

export interface InvocationContext {
  /** The script Node ran (process.argv[1]). */
  script: string;
  path: string;
  cwd: string;
}

export function invocationName(context: InvocationContext): string {
  const self = real(context.script);
  if (self === undefined) return 'stagecraft';
  const names = process.platform === 'win32' ? ['stagecraft.cmd', 'stagecraft'] : ['stagecraft'];
  for (const dir of context.path.split(delimiter).filter(Boolean)) {
    if (names.some((name) => real(join(dir, name)) === self)) return 'stagecraft';
  }
  if (real(join(context.cwd, 'node_modules', '.bin', 'stagecraft')) === self) return 'npx stagecraft';
  const near = relative(context.cwd, context.script);
  return `node ${near.length < context.script.length ? near : context.script}`;
}

/** Rewrites `stagecraft <command>` in a message to the way that works from here. */
export function commandRewriter(name: () => string): (text: string) => string {
  let resolved: string | undefined;
  return (text) => {
    if (!/(^|[\s`'"(])stagecraft [a-z]/.test(text)) return text;
    resolved ??= name();
    if (resolved === 'stagecraft') return text;
    return text.replace(/(^|[\s`'"(])stagecraft (?=[a-z])/g, `$1${resolved} `);
  };
}

function real(file: string): string | undefined {
  try {
    return existsSync(file) ? realpathSync(file) : undefined;
  } catch {
    return undefined;
  }
}
