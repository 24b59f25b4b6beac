/**
 * A smoke test's expectations against what came back: status, a piece of the body, a JSON
 * subset, headers. Every unmet expectation is one line, so a failure says all that is wrong.
 */
import type { SmokeTestDef } from '../../manifest/index.js';

export interface Observed {
  status?: number | undefined;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

export function unmetExpectations(expect: SmokeTestDef['expect'], observed: Observed): string[] {
  const problems: string[] = [];
  if (expect.status !== undefined && observed.status !== expect.status) {
    problems.push(
      observed.status === undefined
        ? `expected status ${expect.status}, but the result has no statusCode`
        : `expected status ${expect.status}, got ${observed.status}`,
    );
  }
  if (expect.bodyContains !== undefined && !observed.body.includes(expect.bodyContains)) {
    problems.push(`expected the body to contain ${JSON.stringify(expect.bodyContains)}`);
  }
  if (expect.json !== undefined) {
    let actual: unknown;
    try {
      actual = JSON.parse(observed.body);
    } catch {
      problems.push('expected a JSON body, got text that is not JSON');
    }
    if (actual !== undefined) {
      const mismatch = subsetMismatch(expect.json, actual, '$');
      if (mismatch) problems.push(`expected the JSON body to contain ${JSON.stringify(expect.json)}: ${mismatch}`);
    }
  }
  for (const [name, value] of Object.entries(expect.headers ?? {})) {
    const actual = observed.headers[name.toLowerCase()];
    if (actual !== value)
      problems.push(`expected header ${name}: ${value}, got ${actual === undefined ? 'none' : actual}`);
  }
  if (problems.length > 0) problems.push(`body: ${truncate(observed.body, 300)}`);
  return problems;
}

/**
 * Where `actual` fails to contain `expected`: objects by the keys `expected` names, arrays
 * element by element with the same length, everything else by equality. Undefined when it does.
 */
export function subsetMismatch(expected: unknown, actual: unknown, path: string): string | undefined {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path} is not an array`;
    if (actual.length !== expected.length) return `${path} has ${actual.length} items, expected ${expected.length}`;
    for (const [index, item] of expected.entries()) {
      const mismatch = subsetMismatch(item, actual[index], `${path}[${index}]`);
      if (mismatch) return mismatch;
    }
    return undefined;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return `${path} is not an object`;
    for (const [key, value] of Object.entries(expected)) {
      if (!(key in actual)) return `${path}.${key} is missing`;
      const mismatch = subsetMismatch(value, (actual as Record<string, unknown>)[key], `${path}.${key}`);
      if (mismatch) return mismatch;
    }
    return undefined;
  }
  return Object.is(expected, actual) ? undefined : `${path} is ${JSON.stringify(actual)}`;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}
