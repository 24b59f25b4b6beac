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
      if (!ENV_NAME.test(name))
        return { problem: `${text} needs an environment variable name, e.g. \${env:DATABASE_URL}` };
      references.push({ kind: 'env', name, fallback: comma < 0 ? undefined : rest.slice(comma + 1).trim(), text });
    } else if (kind === 'secret') {
      const name = rest.trim();
      if (!SECRET_NAME.test(name)) return { problem: `${text} needs a secret name, e.g. \${secret:payment-key}` };
      references.push({ kind: 'secret', name, text });
    } else {
      return {
        problem: `${text} is not a reference Stagecraft knows; use \${env:NAME}, \${env:NAME, default} or \${secret:NAME}`,
      };
    }
  }
  return { references };
}

/** A secret as the store holds it now: its value and the revision that value was set as. */
export interface SecretValue {
  value: string;
  /** Never reused, even after `secret rm`: a version pins the revisions it was published with. */
  revision: number;
}

export interface ReferenceSources {
  env: (name: string) => string | undefined;
  secret: (name: string) => SecretValue | undefined;
}

export type Resolution =
  | {
      /** What the handler sees. */
      value: string;
      /** What may be stored: `${env:…}` resolved, each `${secret:NAME}` pinned as `${secret:NAME@revision}`. */
      stored: string;
      /** The secret values used, for masking. */
      secrets: string[];
    }
  | { missing: Reference }
  /** A value that cannot be used as it is, e.g. an environment variable holding `${secret:…}`. */
  | { unusable: Reference; problem: string };

/** `${secret:payment-key@7}`: a reference pinned to one revision, as a published version stores it. */
const PINNED = /\$\{secret:([A-Za-z0-9][A-Za-z0-9_.-]*)@(\d+)\}/g;

/** One value with every reference replaced, or the first reference that has no value. */
export function resolveValue(value: string, sources: ReferenceSources): Resolution {
  const parsed = parseReferences(value);
  if ('problem' in parsed) throw new Error(parsed.problem); // the schema has already refused such values
  const secrets: string[] = [];
  let resolved = '';
  let stored = '';
  let from = 0;
  // Rebuilt piece by piece: a value taken from the environment is never searched for references again.
  for (const match of value.matchAll(REFERENCE)) {
    const reference = parsed.references.find((candidate) => candidate.text === match[0]);
    if (reference === undefined) continue;
    const literal = value.slice(from, match.index);
    from = match.index + match[0].length;
    if (reference.kind === 'env') {
      const found = sources.env(reference.name) ?? reference.fallback;
      if (found === undefined) return { missing: reference };
      if (found.includes('${secret:')) {
        // Stored text is read back for `${secret:…@n}` when an environment starts: only the manifest may put one there.
        return {
          unusable: reference,
          problem: `the value of ${reference.name} contains "\${secret:", which only the manifest may write`,
        };
      }
      resolved += literal + found;
      stored += literal + found;
    } else {
      const found = sources.secret(reference.name);
      if (found === undefined) return { missing: reference };
      secrets.push(found.value);
      resolved += literal + found.value;
      stored += `${literal}\${secret:${reference.name}@${found.revision}}`;
    }
  }
  resolved += value.slice(from);
  stored += value.slice(from);
  return { value: resolved, stored, secrets };
}

/** The pinned secret references in a stored value: `${secret:NAME@revision}`. */
export function pinnedSecrets(stored: string): { name: string; revision: number; text: string }[] {
  return [...stored.matchAll(PINNED)].map((match) => ({
    name: match[1] as string,
    revision: Number(match[2]),
    text: match[0],
  }));
}

/** A stored value with its pinned references replaced by `lookup`'s answers. */
export function fillPinnedSecrets(stored: string, lookup: (name: string, revision: number) => string): string {
  return stored.replace(PINNED, (_text, name: string, revision: string) => lookup(name, Number(revision)));
}
