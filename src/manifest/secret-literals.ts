/**
 * Credentials written into `stagecraft.yml` itself: a literal value under a config key that
 * names a secret (`DB_PASSWORD: hunter2`, `STRIPE_API_KEY: sk_live_…`). Such a value belongs in
 * the secret store (`${secret:…}`) or the deploying environment (`${env:…}`), never in a file
 * that is committed. Used by the credential scan of `build`.
 *
 * The YAML parser is imported on the first call only: most commands never scan.
 */
import { parseReferences } from './interpolate.js';

export interface SecretLiteral {
  /** `config.API_TOKEN`, `environments[prod].config.DB_PASSWORD`, `functions.api.config.KEY`. */
  path: string;
  key: string;
  /** 1-based, where the value stands. */
  line: number;
  column: number;
}

/** Words that make a key a secret's name wherever they stand in it. */
const SECRET_WORDS = new Set([
  'SECRET',
  'SECRETS',
  'PASSWORD',
  'PASSWORDS',
  'PASSWD',
  'PWD',
  'PASS',
  'PASSPHRASE',
  'TOKEN',
  'TOKENS',
  'APIKEY',
  'CREDENTIAL',
  'CREDENTIALS',
  'PRIVATEKEY',
  'DSN',
  'SALT',
]);
/** `<word>_KEY` names a secret for these words only: `PARTITION_KEY` or `CACHE_KEY` do not. */
const KEY_QUALIFIERS = new Set([
  'API',
  'ACCESS',
  'PRIVATE',
  'SIGNING',
  'ENCRYPTION',
  'MASTER',
  'SESSION',
  'AUTH',
  'LICENSE',
  'CLIENT',
  'APP',
  'HMAC',
  'JWT',
  'WEBHOOK',
]);
/** A last word that says the value is about the secret, not the secret: `TOKEN_URL`, `SECRET_ARN`, `PASSWORD_MIN_LENGTH`. */
const ABOUT_WORDS = new Set([
  'NAME',
  'NAMES',
  'ID',
  'ARN',
  'URL',
  'URI',
  'ENDPOINT',
  'HOST',
  'PATH',
  'FILE',
  'TTL',
  'TIMEOUT',
  'EXPIRY',
  'EXPIRES',
  'LENGTH',
  'LEN',
  'SIZE',
  'MIN',
  'MAX',
  'COUNT',
  'ENABLED',
  'DISABLED',
  'HEADER',
  'FIELD',
  'PARAM',
  'REGION',
  'TYPE',
  'MODE',
  'VERSION',
  'ALGORITHM',
  'ISSUER',
  'AUDIENCE',
  'SCOPE',
  'SCOPES',
  'FORMAT',
  'PREFIX',
  'ROTATION',
  'DAYS',
  'HOURS',
  'SECONDS',
  'MS',
  'STORE',
  'PROVIDER',
]);
/** Values that switch something rather than open it. */
const NOT_CREDENTIALS = /^(|true|false|yes|no|on|off|none|null|-?\d+(\.\d+)?)$/i;

/** Whether a config key names a secret: `DB_PASSWORD`, `stripeApiKey`, `GITHUB_TOKEN`, but not `TOKEN_TTL`. */
export function looksLikeSecretKey(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
    .split(/_+/)
    .filter(Boolean);
  if (words.length === 0 || ABOUT_WORDS.has(words.at(-1) as string)) return false;
  return words.some(
    (word, index) =>
      SECRET_WORDS.has(word) || (word === 'KEY' && index > 0 && KEY_QUALIFIERS.has(words[index - 1] as string)),
  );
}

/** Whether a value under a secret-looking key is a literal credential rather than a reference. */
function isLiteral(value: string): boolean {
  if (NOT_CREDENTIALS.test(value.trim())) return false;
  const parsed = parseReferences(value);
  return 'references' in parsed && parsed.references.length === 0;
}

/** Every literal under a secret-looking key in the `config` maps of manifest text, with its position. */
export async function findSecretLiterals(text: string): Promise<SecretLiteral[]> {
  const { LineCounter, isMap, isScalar, isSeq, parseDocument } = await import('./yaml-api.js');
  type YamlNode = ReturnType<typeof parseDocument>['contents'];
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const found: SecretLiteral[] = [];
  const get = (map: YamlNode | unknown, key: string): unknown => {
    if (!isMap(map)) return undefined;
    return map.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === key)?.value;
  };
  const scanConfig = (node: unknown, where: string): void => {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      if (!isScalar(pair.key) || !isScalar(pair.value)) continue;
      const key = String(pair.key.value);
      const value = pair.value.value === null ? '' : String(pair.value.value);
      if (!looksLikeSecretKey(key) || !isLiteral(value)) continue;
      const { line, col } = lines.linePos(pair.value.range?.[0] ?? 0);
      found.push({ path: `${where}.${key}`, key, line, column: col });
    }
  };
  scanConfig(get(doc.contents, 'config'), 'config');
  const environments = get(doc.contents, 'environments');
  if (isSeq(environments)) {
    for (const [index, item] of environments.items.entries()) {
      const name = get(item, 'name');
      scanConfig(get(item, 'config'), `environments[${isScalar(name) ? String(name.value) : index}].config`);
    }
  }
  const functions = get(doc.contents, 'functions');
  if (isMap(functions)) {
    for (const pair of functions.items)
      if (isScalar(pair.key)) scanConfig(get(pair.value, 'config'), `functions.${String(pair.key.value)}.config`);
  }
  return found.sort((a, b) => a.line - b.line || a.column - b.column);
}
