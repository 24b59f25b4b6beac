/**
 * How the local provider gets a version's secret values: the version stores its `${secret:…}`
 * references pinned to a revision, and they are opened only when an execution environment
 * starts, by the secret store passed in (src/secrets, wired by the CLI).
 */
import { StagecraftError } from '../../errors.js';
import { pinnedSecrets } from '../../manifest/index.js';
import type { VersionRecord } from '../../state/index.js';

export interface VersionSecrets {
  /** The version's environment with its secrets opened, and the values to mask in what it prints. */
  resolveVersion(version: VersionRecord): { environment: Record<string, string>; secrets: string[] };
}

export function openVersionConfig(
  version: VersionRecord,
  secrets: VersionSecrets | undefined,
): { environment: Record<string, string>; secrets: string[] } {
  if (secrets) return secrets.resolveVersion(version);
  const uses = Object.values(version.config).some((value) => pinnedSecrets(value).length > 0);
  if (uses) {
    throw new StagecraftError(
      'SECRET_KEY_INVALID',
      `version ${version.version} of ${version.instance} uses secrets, and no secret store was given to open them`,
      {
        hint: "run it through the stagecraft command line, which opens the app's secret store",
      },
    );
  }
  return { environment: version.config, secrets: [] };
}
