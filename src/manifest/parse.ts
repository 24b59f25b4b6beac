/**
 * Parses `stagecraft.yml`: YAML with source positions, the strict schema, then the checks across
 * the whole manifest. Every problem found is reported at once, each as
 * `file:line:column key.path: what is wrong (found …)`.
 */
import { relative, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { StagecraftError } from '../errors.js';
import { digestOf } from '../digest.js';
import { crossCheck, type Problem } from './cross-check.js';
import { formatPath, positionOf, type Position } from './positions.js';
import { duplicateKeys, firstAliasOffset, isAliasBomb, MAX_ALIASES, printable } from './yaml-guards.js';
import { manifestSchema, type Manifest } from './schema.js';

export interface LoadedManifest {
  manifest: Manifest;
  /** Absolute folder of the app. */
  appDir: string;
  /** Absolute path of the manifest file. */
  file: string;
  /** sha256 of the parsed manifest (comments and layout do not count). */
  digest: string;
}

/** Parses manifest text; `appDir` (when given) also lets it check that handler files exist. */
export function parseManifest(text: string, where: { file: string; appDir?: string }): LoadedManifest {
  const shown = where.appDir ? relative(process.cwd(), where.file) || where.file : where.file;
  const lines = new LineCounter();
  // Keys are checked for duplicates below, in linear time: the parser's own check is quadratic in a mapping's size.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const yamlErrors = [
    ...doc.errors.map((error) => ({ offset: error.pos[0], message: firstLine(error.message) })),
    ...duplicateKeys(doc).map((duplicate) => ({ offset: duplicate.offset, message: 'Map keys must be unique' })),
  ].sort((a, b) => a.offset - b.offset);
  if (yamlErrors.length > 0) {
    throw invalid(
      shown,
      yamlErrors.map((error) => {
        const pos = lines.linePos(error.offset);
        return `${shown}:${pos.line}:${pos.col} invalid YAML: ${error.message}`;
      }),
    );
  }
  let input: unknown;
  try {
    input = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (error) {
    if (!isAliasBomb(error)) throw error;
    const pos = lines.linePos(firstAliasOffset(doc));
    throw invalid(shown, [
      `${shown}:${pos.line}:${pos.col} too many aliases: resolving them would exceed ${MAX_ALIASES} (an alias bomb?)`,
    ]);
  }
  const result = manifestSchema.safeParse(input ?? {}, { reportInput: true });
  const problems = result.success
    ? crossCheck(result.data, where.appDir)
    : mostSpecific(result.error.issues.flatMap(toProblems));
  if (!result.success || problems.length > 0) {
    const index = new WeakMap();
    const located = problems.map((problem) => ({
      problem,
      at: positionOf(doc, lines, problem.path, problem.atKey, index),
    }));
    located.sort((a, b) => a.at.line - b.at.line || a.at.column - b.at.column);
    throw invalid(
      shown,
      located.map(({ problem, at }) => formatProblem(shown, at, problem)),
    );
  }
  return {
    manifest: result.data,
    appDir: where.appDir ?? resolve('.'),
    file: where.file,
    digest: digestOf(result.data),
  };
}

function invalid(file: string, details: string[]): StagecraftError {
  const count = details.length === 1 ? 'a problem' : `${details.length} problems`;
  return new StagecraftError('MANIFEST_INVALID', `${file} has ${count}`, {
    details,
    hint: 'fix the lines named above; `stagecraft validate` checks the manifest without changing anything',
  });
}

function toProblems(issue: z.core.$ZodIssue): Problem[] {
  const path = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: [...path, key],
      message: `unknown key ${printable(JSON.stringify(key))}; ${issue.message}`,
      atKey: true,
    }));
  }
  if (issue.code === 'invalid_key') {
    const reason = issue.issues[0]?.message ?? issue.message;
    return [{ path, message: `invalid key "${String(path.at(-1))}": ${reason}`, atKey: true }];
  }
  if (issue.code === 'invalid_union' && issue.errors.length > 0 && issue.message.startsWith('Invalid input')) {
    // zod's generic union message says nothing; the first branch's own message says what was expected
    const inner = issue.errors.flat()[0];
    if (inner) return toProblems({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue);
  }
  const found = 'input' in issue ? describe(issue.input) : undefined;
  const message = found === undefined ? `missing: ${issue.message}` : `${issue.message}, found ${found}`;
  return [{ path, message }];
}

/** A problem inside a value says more than one about the whole value, so only the inner one is kept (linear in the problems). */
function mostSpecific(problems: Problem[]): Problem[] {
  const ancestors = new Set<string>();
  for (const problem of problems) {
    for (let length = 0; length < problem.path.length; length++)
      ancestors.add(JSON.stringify(problem.path.slice(0, length)));
  }
  return problems.filter((problem) => !ancestors.has(JSON.stringify(problem.path)));
}

function formatProblem(file: string, { line, column }: Position, problem: Problem): string {
  const path = formatPath(problem.path);
  return `${file}:${line}:${column} ${path ? `${path}: ` : ''}${problem.message}`;
}

function describe(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (value === null) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
