/**
 * What Stagecraft keeps on Lambda itself, so that AWS alone can answer "which release is this
 * version, and has this alias moved since I read it" — from any machine, with no local state:
 *
 * - a version's `Description` names its release, artifact and config digest;
 * - an alias's `Description` carries Stagecraft's own revision counter (Lambda's `RevisionId` is
 *   an opaque id, and emulators such as moto never change or check it), when it moved, and the
 *   digest of the event bindings last reconciled for it.
 *
 * Both fields hold at most 256 characters
 * (https://docs.aws.amazon.com/lambda/latest/api/API_PublishVersion.html#lambda-PublishVersion-request-Description).
 */

const MAX_DESCRIPTION = 256;

export interface VersionMeta {
  release: string;
  /** Hex sha256 of the artifact zip (Lambda's `CodeSha256` is the same digest in base64). */
  sha256: string;
  configDigest: string;
  environment: string;
  function: string;
}

export interface AliasMeta {
  revision: number;
  updatedAt: string;
  /** Digest of the bindings (event source mappings, permissions, destinations) last made for this alias. */
  bindings: string;
}

export function encodeVersionMeta(meta: VersionMeta): string {
  return fit({ sc: 1, r: meta.release, s: meta.sha256, c: meta.configDigest, e: meta.environment, f: meta.function });
}

export function decodeVersionMeta(description: string | undefined): VersionMeta | undefined {
  const value = parse(description);
  if (!value || typeof value['r'] !== 'string' || typeof value['s'] !== 'string') return undefined;
  return {
    release: value['r'],
    sha256: value['s'],
    configDigest: String(value['c'] ?? ''),
    environment: String(value['e'] ?? ''),
    function: String(value['f'] ?? ''),
  };
}

export function encodeAliasMeta(meta: AliasMeta): string {
  return fit({ sc: 1, rev: meta.revision, at: meta.updatedAt, b: meta.bindings });
}

/** An alias Stagecraft never wrote (or wrote by hand) reads as revision 0. */
export function decodeAliasMeta(description: string | undefined): AliasMeta {
  const value = parse(description);
  return {
    revision: typeof value?.['rev'] === 'number' ? value['rev'] : 0,
    updatedAt: typeof value?.['at'] === 'string' ? value['at'] : '',
    bindings: typeof value?.['b'] === 'string' ? value['b'] : '',
  };
}

/** Lambda's `CodeSha256` (base64) as the hex digest artifacts are named by. */
export function codeShaToHex(codeSha256: string): string {
  return Buffer.from(codeSha256, 'base64').toString('hex');
}

export function hexToCodeSha(sha256: string): string {
  return Buffer.from(sha256, 'hex').toString('base64');
}

function fit(value: Record<string, unknown>): string {
  const text = JSON.stringify(value);
  if (text.length > MAX_DESCRIPTION)
    throw new Error(`Stagecraft metadata exceeds Lambda's ${MAX_DESCRIPTION}-character description: ${text}`);
  return text;
}

function parse(description: string | undefined): Record<string, unknown> | undefined {
  if (!description?.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(description) as unknown;
    return value !== null && typeof value === 'object' && (value as Record<string, unknown>)['sc'] === 1
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
