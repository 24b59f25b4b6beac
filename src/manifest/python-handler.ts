/**
 * Where a Python handler string points, by the rule of AWS's Python runtime (awslambdaric): the
 * module is everything before the last ".", with "/" read as "." (`pkg/mod.fn` is `pkg.mod`).
 * https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

export interface PythonHandler {
  /** The dotted module name awslambdaric imports: `pkg.mod`. */
  module: string;
  /** The attribute of the module called for each invocation. */
  functionName: string;
  /** The module's candidate files, relative to the source folder: `pkg/mod.py`, `pkg/mod/__init__.py`. */
  candidates: string[];
}

export function parsePythonHandler(handler: string): PythonHandler | undefined {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0 || dot === handler.length - 1) return undefined;
  const module = handler.slice(0, dot).replaceAll('/', '.');
  const functionName = handler.slice(dot + 1);
  const parts = module.split('.');
  if (parts.some((part) => !/^[A-Za-z_]\w*$/.test(part)) || !/^[A-Za-z_]\w*$/.test(functionName)) return undefined;
  const path = parts.join('/');
  return { module, functionName, candidates: [`${path}.py`, `${path}/__init__.py`] };
}

/**
 * What is wrong with a Python handler in `sourceDir` (the function's source folder, `label` as the
 * manifest names it), or undefined: no such module file, or no top-level name for the function.
 * A module that defines names dynamically (`import *`, a module `__getattr__`) is given the benefit
 * of the doubt: the runtime reports Runtime.HandlerNotFound at the first call if it was wrong.
 */
export function pythonHandlerProblem(sourceDir: string, label: string, handler: string): string | undefined {
  const parsed = parsePythonHandler(handler);
  if (parsed === undefined)
    return `"${handler}" is not <module>.<function> with Python identifiers, e.g. app.handler or pkg/mod.handler`;
  const file = parsed.candidates.find((candidate) => existsSync(join(sourceDir, candidate)));
  const shown = (path: string) => (label === '.' || label === '' ? path : posix.join(label, path));
  if (file === undefined)
    return `no module ${parsed.module}: neither ${parsed.candidates.map(shown).join(' nor ')} exists`;
  const source = readFileSync(join(sourceDir, file), 'utf8');
  if (/^from\s+\S+\s+import\s+\*|^def\s+__getattr__\s*\(/m.test(source)) return undefined;
  const names = topLevelNames(source);
  if (names.some((entry) => entry.name === parsed.functionName)) return undefined;
  const defined = names
    .filter((entry) => entry.kind === 'def')
    .map((entry) => `${entry.name} (${shown(file)}:${entry.line})`);
  return `${shown(file)}:1 has no top-level ${parsed.functionName}; it defines ${defined.length === 0 ? 'no functions' : defined.join(', ')}`;
}

interface TopLevelName {
  name: string;
  line: number;
  kind: 'def' | 'other';
}

/** Names bound at the top of a module: functions, classes, assignments and imports. */
function topLevelNames(source: string): TopLevelName[] {
  const names: TopLevelName[] = [];
  source.split(/\r?\n/).forEach((text, index) => {
    const line = index + 1;
    const def = /^(?:async\s+)?def\s+([A-Za-z_]\w*)/.exec(text);
    if (def?.[1] !== undefined) {
      names.push({ name: def[1], line, kind: 'def' });
      return;
    }
    const bound = /^(?:class\s+([A-Za-z_]\w*)|([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=))/.exec(text);
    const name = bound?.[1] ?? bound?.[2];
    if (name !== undefined) names.push({ name, line, kind: 'other' });
    const imported = /^(?:from\s+\S+\s+)?import\s+(.+)$/.exec(text);
    for (const part of imported?.[1]?.split(',') ?? []) {
      const alias = /(?:\bas\s+)?([A-Za-z_]\w*)\s*\)?\s*$/.exec(part.trim());
      if (alias?.[1] !== undefined) names.push({ name: alias[1], line, kind: 'other' });
    }
  });
  return names;
}
