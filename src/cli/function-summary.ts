/**
 * Functions and their versions in one short phrase: a few are listed by name; many are
 * summarised by what is common ("50 functions at v3") with only the ones that differ named.
 */

const LIST_UP_TO = 3;

export function summariseVersions(entries: readonly { function: string; version: number | null }[]): string {
  const show = (version: number | null): string => (version === null ? 'nothing' : `v${version}`);
  if (entries.length <= LIST_UP_TO)
    return entries.map((entry) => `${entry.function} ${show(entry.version)}`).join(', ');
  const counts = new Map<number | null, number>();
  for (const entry of entries) counts.set(entry.version, (counts.get(entry.version) ?? 0) + 1);
  const [common] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0] ?? [null];
  const others = entries.filter((entry) => entry.version !== common);
  const head = `${entries.length} functions at ${show(common)}`;
  if (others.length === 0) return head;
  const named = others.slice(0, LIST_UP_TO * 2).map((entry) => `${entry.function} ${show(entry.version)}`);
  const more = others.length > named.length ? ` and ${others.length - named.length} more (--json lists them)` : '';
  return `${head}, except ${named.join(', ')}${more}`;
}
