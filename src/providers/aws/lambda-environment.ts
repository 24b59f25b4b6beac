/**
 * A version's variables as Lambda holds them. The stored config pins secrets as references
 * (`${secret:payment-key@8}`); Lambda needs their values, so they are opened at publish time
 * (Lambda encrypts variables at rest,
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html). The
 * references themselves travel in one more variable, so that reading a version back gives its
 * stored config — references, never values — to the ledger, `status` and everything else.
 */
import { StagecraftError } from '../../errors.js';
import { pinnedSecrets } from '../../manifest/index.js';
import type { NewVersion } from '../../state/index.js';
import type { VersionSecrets } from '../local/version-secrets.js';

export const SECRET_REFS_VARIABLE = 'STAGECRAFT_SECRET_REFS';

export function lambdaEnvironment(spec: NewVersion, secrets: VersionSecrets | undefined): Record<string, string> {
  const refs = Object.fromEntries(Object.entries(spec.config).filter(([, value]) => pinnedSecrets(value).length > 0));
  if (Object.keys(refs).length === 0) return spec.config;
  if (!secrets) {
    throw new StagecraftError('SECRET_KEY_INVALID', `${spec.function} in ${spec.environment} uses secrets (${Object.keys(refs).join(', ')}), and no secret store was given to open them`, {
      hint: 'deploy through the stagecraft command line, which opens the app\'s secret store',
    });
  }
  const opened = secrets.resolveVersion({ ...spec, version: 0, publishedAt: '' });
  return { ...opened.environment, [SECRET_REFS_VARIABLE]: JSON.stringify(refs) };
}

/** The stored config of a version read back from Lambda: its secret values replaced by their references. */
export function storedConfig(variables: Record<string, string>): Record<string, string> {
  const refsText = variables[SECRET_REFS_VARIABLE];
  if (refsText === undefined) return variables;
  const { [SECRET_REFS_VARIABLE]: _refs, ...rest } = variables;
  let refs: Record<string, string>;
  try {
    refs = JSON.parse(refsText) as Record<string, string>;
  } catch {
    // Stagecraft writes this variable; if it cannot be read, no value of this version is shown.
    return Object.fromEntries(Object.keys(rest).map((key) => [key, '***']));
  }
  return { ...rest, ...Object.fromEntries(Object.keys(rest).filter((key) => key in refs).map((key) => [key, refs[key] ?? '***'])) };
}

/** The values of the variables a version's references name: its secrets, in clear, to redact. */
export function secretValues(variables: Record<string, string>): string[] {
  const refsText = variables[SECRET_REFS_VARIABLE];
  if (refsText === undefined) return [];
  let names: string[];
  try {
    names = Object.keys(JSON.parse(refsText) as Record<string, string>);
  } catch {
    names = Object.keys(variables).filter((key) => key !== SECRET_REFS_VARIABLE);
  }
  return names.flatMap((name) => (variables[name] ? [variables[name]] : []));
}
