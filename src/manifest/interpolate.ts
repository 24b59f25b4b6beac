/**
 * `${env:NAME}`, `${env:NAME, default}` and `${secret:NAME}` inside config values. They are
 * checked when the manifest loads and resolved only at deploy time, from the deploying
 * process's environment and the secret store: config is bound late, never baked into a build.
 */

export type Reference =
  | { kind: 'env'; name: string; fallback: string | undefined; text: string }
  | { kind: 'secret'; name: string; text: string };

const REFERENCE = /\$\{([^}]*)\}/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** The references in one config value, or a sentence saying what is wrong with one of them. */
export function parseReferences(value: string): { references: Reference[] } | { problem: string } {
  const references: Reference[] = [];
  for (const match of value.matchAll(REFERENCE)) {
    const text = match[0];
    const body = (match[1] ?? '').trim();
    const colon = body.indexOf(':');
    const kind = colon < 0 ? body : body.slice(0, colon);
    const rest = colon < 0 ? '' : body.slice(colon + 1);
    if (kind === 'env') {
      const comma = rest.indexOf(',');
      const name = (comma < 0 ? rest : rest.slice(0, comma)).trim();
      if (!ENV_NAME.test(name)) return { problem: `${text} needs an environment variable name, e.g. \${env:DATABASE_URL}` };
      references.push({ kind: 'env', name, fallback: comma < 0 ? undefined : rest.slice(comma + 1).trim(), text });
    } else if (kind === 'secret') {
      const name = rest.trim();
      if (!SECRET_NAME.test(name)) return { problem: `${text} needs a secret name, e.g. \${secret:payment-key}` };
      references.push({ kind: 'secret', name, text });
    } else {
      return { problem: `${text} is not a reference Stagecraft knows; use \${env:NAME}, \${env:NAME, default} or \${secret:NAME}` };
    }
  }
  return { references };
}

export interface ReferenceSources {
  env: (name: string) => string | undefined;
  secret: (name: string) => string | undefined;
}

export type Resolution = { value: string; secrets: string[] } | { missing: Reference };

/** One value with every reference replaced, or the first reference that has no value. */
export function resolveValue(value: string, sources: ReferenceSources): Resolution {
  const parsed = parseReferences(value);
  if ('problem' in parsed) throw new Error(parsed.problem); // the schema has already refused such values
  const secrets: string[] = [];
  let resolved = value;
  for (const reference of parsed.references) {
    const found = reference.kind === 'env' ? sources.env(reference.name) ?? reference.fallback : sources.secret(reference.name);
    if (found === undefined) return { missing: reference };
    if (reference.kind === 'secret') secrets.push(found);
    resolved = resolved.replace(reference.text, () => found);
  }
  return { value: resolved, secrets };
}
