/**
 * Lambda's answers as Stagecraft's records: a published version as a `VersionRecord`, an alias
 * as an `AliasRecord` (revision and time from the metadata Stagecraft keeps on the alias).
 */
import type { AliasConfiguration, FunctionConfiguration } from '@aws-sdk/client-lambda';
import type { AliasRecord, VersionRecord } from '../../state/index.js';
import { RELEASE_VARIABLE, storedConfig } from './lambda-environment.js';
import { codeShaToHex, decodeAliasMeta, decodeVersionMeta } from './metadata.js';

/** A version Stagecraft did not publish still reads, with an empty release and its real code digest. */
export function toVersionRecord(config: FunctionConfiguration): VersionRecord {
  const meta = decodeVersionMeta(config.Description);
  return {
    instance: config.FunctionName ?? '',
    version: Number(config.Version),
    environment: meta?.environment ?? '',
    function: meta?.function ?? '',
    releaseId: meta?.release ?? '',
    // The digest of the code Lambda actually holds, not the one the metadata claims.
    sha256: config.CodeSha256 ? codeShaToHex(config.CodeSha256) : '',
    runtime: config.Runtime ?? '',
    handler: config.Handler ?? '',
    memoryMb: config.MemorySize ?? 0,
    timeoutSec: config.Timeout ?? 0,
    // The release is the version's (its description), not a Lambda variable (see RELEASE_VARIABLE).
    config: {
      ...storedConfig(config.Environment?.Variables ?? {}),
      ...(meta ? { [RELEASE_VARIABLE]: meta.release } : {}),
    },
    configDigest: meta?.configDigest ?? '',
    publishedAt: isoTime(config.LastModified),
  };
}

export function toAliasRecord(instance: string, alias: AliasConfiguration): AliasRecord {
  const meta = decodeAliasMeta(alias.Description);
  const weights = Object.entries(alias.RoutingConfig?.AdditionalVersionWeights ?? {});
  const extra = weights[0];
  return {
    instance,
    name: alias.Name ?? '',
    version: Number(alias.FunctionVersion),
    extra: extra ? { version: Number(extra[0]), weight: extra[1] } : undefined,
    revision: meta.revision,
    updatedAt: meta.updatedAt,
  };
}

/** Lambda writes `2019-10-15T21:20:31.000+0000`; emulators write other ISO forms. */
function isoTime(text: string | undefined): string {
  if (!text) return '';
  const normalised = text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2').replace(/(\.\d{3})\d+/, '$1');
  const time = new Date(normalised);
  return Number.isNaN(time.getTime()) ? text : time.toISOString();
}
