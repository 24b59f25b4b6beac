/**
 * The pieces of an HTTP request both payload formats are built from: decoded paths and query
 * strings, cookies, the text-or-binary decision for bodies, and API Gateway's time format.
 * All string work here is plain indexOf/slice: it runs on every request.
 */

/**
 * Sets `record[key]` as an own property even for `__proto__`, a valid header name and query key
 * that plain assignment would turn into a prototype change (and so lose).
 */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__')
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}

/** `record[key]` if it is the record's own: `constructor` is a header name too. */
export function ownValue<T>(record: Record<string, T>, key: string): T | undefined {
  const value = record[key];
  return value !== undefined && Object.hasOwn(record, key) ? value : undefined;
}

/** `decodeURIComponent` that keeps the input when it is not valid percent-encoding, as API Gateway passes such input on. */
export function safeDecode(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A query string component: `+` is a space, then percent-decoding (REST turns `?sort=-+a` into `- a`, aws/aws-cdk#19827). */
function decodeQueryPart(text: string): string {
  return safeDecode(text.includes('+') ? text.replaceAll('+', ' ') : text);
}

/**
 * The query string's parameters in order of first appearance, every value kept:
 * `a=1&a=2&b` is `{ a: ['1', '2'], b: [''] }`. Undefined when there are none.
 */
export function parseQuery(raw: string): Map<string, string[]> | undefined {
  if (raw === '') return undefined;
  let params: Map<string, string[]> | undefined;
  let start = 0;
  while (start <= raw.length) {
    let end = raw.indexOf('&', start);
    if (end === -1) end = raw.length;
    if (end > start) {
      const pair = raw.slice(start, end);
      const eq = pair.indexOf('=');
      const key = decodeQueryPart(eq === -1 ? pair : pair.slice(0, eq));
      const value = eq === -1 ? '' : decodeQueryPart(pair.slice(eq + 1));
      params ??= new Map();
      const values = params.get(key);
      if (values) values.push(value);
      else params.set(key, [value]);
    }
    start = end + 1;
  }
  return params;
}

/** `a=1; b=2` → `['a=1', 'b=2']`, appended to `into`. */
export function splitCookies(header: string, into: string[]): void {
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    const cookie = header.slice(start, end).trim();
    if (cookie !== '') into.push(cookie);
    start = end + 1;
  }
}

/** `application/JSON; charset=utf-8` → `application/json`. */
export function mediaType(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/**
 * Whether an HTTP API passes a request body of this type as text. Verified against AWS (see
 * ministackorg/ministack#767 and denoland/deno_registry2#33): only `text/*`, `application/json`,
 * `application/xml` and `application/javascript` are text; everything else — a missing
 * Content-Type and `application/x-www-form-urlencoded` included — arrives base64-encoded.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */
export function isTextForHttpApi(type: string): boolean {
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type === 'application/xml' ||
    type === 'application/javascript'
  );
}

/**
 * Whether a REST API passes a request body of this type as text. A REST API base64-encodes the
 * types its `binaryMediaTypes` list; Stagecraft's REST routes behave as an API listing every type
 * that is not text below, so binary uploads arrive intact (the manifest has no binaryMediaTypes).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html
 */
export function isTextForRestApi(type: string): boolean {
  return (
    type === '' ||
    isTextForHttpApi(type) ||
    type === 'application/x-www-form-urlencoded' ||
    type.endsWith('+json') ||
    type.endsWith('+xml')
  );
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

/** `12/Mar/2020:19:03:58 +0000`, the `$context.requestTime` format. */
export function requestTime(date: Date): string {
  return (
    `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}

/**
 * Request headers a proxy consumes rather than forwards (RFC 9110 §7.6.1); API Gateway's events
 * never carry them.
 */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** `example.com:3000` → `example`: the first label of the host, as `requestContext.domainPrefix`. */
export function domainPrefixOf(domainName: string): string {
  const colon = domainName.lastIndexOf(':');
  const host = colon === -1 || domainName.endsWith(']') ? domainName : domainName.slice(0, colon);
  const dot = host.indexOf('.');
  return dot === -1 ? host : host.slice(0, dot);
}
