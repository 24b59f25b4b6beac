/** A tagged template that escapes every interpolated value unless it is already markup. */

export class Markup {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

function render(value: unknown): string {
  if (value instanceof Markup) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Markup {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new Markup(out);
}

/** Text known to be markup (a JSON island already escaped for a script element). */
export function raw(text: string): Markup {
  return new Markup(text);
}

/** JSON for a `<script type="application/json">` island: `<` escaped so no `</script>` can close it. */
export function jsonIsland(value: unknown): Markup {
  return new Markup(JSON.stringify(value).replace(/</g, '\\u003c'));
}

/** `2026-12-03T16:10:50.123Z` as a `<time>` a person reads (UTC, to the second). */
export function time(iso: string | null | undefined): Markup {
  if (!iso) return html`<span aria-label="never">–</span>`;
  return html`<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')}</time>`;
}
