/**
 * Maps a key path of the parsed manifest back to the line and column where it stands in the
 * YAML text, so that every problem can be reported as `file:line:column`.
 */
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';
import { printable } from './yaml-guards.js';

export type KeyPath = readonly (string | number)[];

export interface Position {
  line: number;
  column: number;
}

/**
 * The position of the value at `path` or, with `atKey`, of the key naming it (for unknown keys).
 * Where the path leads to nothing (a missing key), the nearest existing parent is used.
 */
export function positionOf(
  doc: Document,
  lines: LineCounter,
  path: KeyPath,
  atKey = false,
  index: KeyIndex = new WeakMap(),
): Position {
  let node: unknown = doc.contents;
  let offset = (node as Node | null)?.range?.[0] ?? 0;
  for (const [at, segment] of path.entries()) {
    const last = at === path.length - 1;
    if (isMap(node)) {
      const pair = pairsOf(node, index).get(String(segment));
      if (!pair) break;
      const keyNode = pair.key as Node;
      const valueNode = pair.value as Node | null;
      offset = (last && atKey) || !valueNode?.range ? (keyNode.range?.[0] ?? offset) : valueNode.range[0];
      node = valueNode;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item?.range) break;
      offset = item.range[0];
      node = item;
    } else {
      break;
    }
  }
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

/** Each mapping's pairs by key, built once per mapping: many problems in one large mapping stay linear. */
export type KeyIndex = WeakMap<YAMLMap, Map<string, Pair>>;

function pairsOf(map: YAMLMap, index: KeyIndex): Map<string, Pair> {
  let pairs = index.get(map);
  if (!pairs) {
    pairs = new Map();
    for (const item of map.items) {
      const key = isScalar(item.key) ? String(item.key.value) : undefined;
      if (key !== undefined && !pairs.has(key)) pairs.set(key, item);
    }
    index.set(map, pairs);
  }
  return pairs;
}

/** `functions.api.events[0].http`, with control characters in key names escaped. */
export function formatPath(path: KeyPath): string {
  return printable(
    path.reduce<string>(
      (text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : text ? `${text}.${segment}` : segment),
      '',
    ),
  );
}
