/**
 * The local provider opens a version's `${secret:…}` references only when an execution
 * environment starts, through the VersionSecrets passed in.
 */
import { StagecraftError } from '../../errors.js';
import { pinnedSecrets } from '../../manifest/index.js';
import type { VersionRecord } from '../../state/index.js';
import type { VersionSecrets } from '../provider.js';

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
