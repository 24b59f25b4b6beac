/**
 * What the YAML parser would otherwise do slowly or with a stack trace: duplicate keys checked in
 * linear time (the parser's own `uniqueKeys` scans each map once per key), an alias bomb
 * ("billion laughs") reported at its line, and key names printed with control characters escaped.
 */
import { isScalar, visit, type Document, type Node } from 'yaml';

/** The most aliases resolved in one manifest; a real one needs a handful. */
export const MAX_ALIASES = 100;

/** Every key that repeats one before it in the same mapping, with its offset in the text. */
export function duplicateKeys(doc: Document): { key: string; offset: number }[] {
  const found: { key: string; offset: number }[] = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (seen.has(key)) found.push({ key, offset: (pair.key as Node).range?.[0] ?? 0 });
        seen.add(key);
      }
    },
  });
  return found;
}

/** The offset of the first alias in the document (where an alias bomb starts to explode). */
export function firstAliasOffset(doc: Document): number {
  let offset = 0;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

/** Whether `error` is the parser's refusal to resolve more aliases than allowed. */
export function isAliasBomb(error: unknown): boolean {
  return error instanceof Error && /alias count/i.test(error.message);
}

/** Control characters (ESC and the like) as \u escapes, so a key name cannot drive the terminal. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(
    /[\u0000-\u001f\u007f-\u009f]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
