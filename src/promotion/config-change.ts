/**
 * What the ledger says about a version's config: which keys differ from the instance's newest
 * version (the one a publish is compared with), never their values. Stored config pins secret
 * references to revisions (`${secret:payment-key@8}`), so a secret set again shows up as a
 * changed key without any secret being opened.
 */
import type { Provider } from '../providers/index.js';

/** Changes with every release; a new release is recorded as such, not as a config change. */
const RELEASE_VARIABLE = 'STAGECRAFT_RELEASE';

export function changedKeys(before: Record<string, string>, after: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  keys.delete(RELEASE_VARIABLE);
  return [...keys].filter((key) => before[key] !== after[key]).sort();
}

/** Ledger detail for publishing `config` with code `sha256` to `instance`: `{ configChanged, codeChanged, comparedWith }`. */
export async function configChangeDetail(
  provider: Provider,
  instance: string,
  sha256: string,
  config: Record<string, string>,
): Promise<Record<string, unknown>> {
  // A provider that reads the newest code and config more cheaply than a listing (aws) says so.
  const previous = provider.newestConfig
    ? await provider.newestConfig(instance)
    : (await provider.listVersions(instance)).at(-1);
  if (!previous) return {};
  return {
    configChanged: changedKeys(previous.config, config),
    codeChanged: previous.sha256 !== sha256,
    ...('version' in previous ? { comparedWith: previous.version } : {}),
  };
}
