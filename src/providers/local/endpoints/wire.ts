/** The request and response an endpoint's protocol code reads and writes, free of node:http. */
import { randomUUID } from 'node:crypto';

export interface WireRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  query: URLSearchParams;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

export function newRequestId(): string {
  return randomUUID();
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): WireResponse {
  return { status, headers: { 'content-type': 'application/x-amz-json-1.0', ...headers }, body: JSON.stringify(body) };
}

export function xmlResponse(status: number, body: string): WireResponse {
  return { status, headers: { 'content-type': 'text/xml' }, body: `<?xml version="1.0"?>\n${body}` };
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#xD;',
};

export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (char) => XML_ESCAPES[char] ?? char);
}

/** `<name>…</name>` around escaped text, or around already-built children when `raw`. */
export function element(name: string, content: string | number | boolean, raw = false): string {
  return `<${name}>${raw ? String(content) : escapeXml(String(content))}</${name}>`;
}

/**
 * The query protocol's flattened lists and maps (`Entry.1.Id`, `MessageAttribute.1.Value.DataType`)
 * read back into objects: `members(params, 'Entry')` gives one record per index, keys after it.
 */
export function members(params: URLSearchParams, prefix: string): Map<string, string>[] {
  const byIndex = new Map<number, Map<string, string>>();
  for (const [key, value] of params) {
    if (!key.startsWith(`${prefix}.`)) continue;
    const rest = key.slice(prefix.length + 1);
    const dot = rest.indexOf('.');
    const index = Number(dot === -1 ? rest : rest.slice(0, dot));
    if (!Number.isInteger(index)) continue;
    const entry = byIndex.get(index) ?? new Map<string, string>();
    entry.set(dot === -1 ? '' : rest.slice(dot + 1), value);
    byIndex.set(index, entry);
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, entry]) => entry);
}

/** The sub-parameters of one member under `prefix` (`Value.DataType` → `DataType` for prefix `Value`). */
export function under(entry: Map<string, string>, prefix: string): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of entry) if (key.startsWith(`${prefix}.`)) params.set(key.slice(prefix.length + 1), value);
  return params;
}

export function entryParams(entry: Map<string, string>): URLSearchParams {
  return new URLSearchParams([...entry.entries()]);
}
