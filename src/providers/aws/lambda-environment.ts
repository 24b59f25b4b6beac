/**
 * A version's variables as Lambda holds them. The stored config pins secrets as references
 * (`${secret:payment-key@8}`); Lambda needs their values, so they are opened at publish time
 * (Lambda encrypts variables at rest,
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html). The
 * references themselves travel in one more variable, so that reading a version back gives its
 * stored config — references, never values — to the ledger, `status` and everything else.
 */
import { StagecraftError } from '../../errors.js';
import { aliasName, instanceName, locatorVariables, pinnedSecrets, type Manifest } from '../../manifest/index.js';
import type { NewVersion } from '../../state/index.js';
import type { VersionSecrets } from '../provider.js';
import { queueUrl, topicArn, type Place } from './aws-names.js';

export const SECRET_REFS_VARIABLE = 'STAGECRAFT_SECRET_REFS';
/**
 * Not one of Lambda's variables: it changes with every release, and a variable that changes forces an
 * UpdateFunctionConfiguration (one of the account's 15 calls/s) for each function of each release. The
 * release is in the version's description (metadata.ts), which PublishVersion takes anyway.
 */
export const RELEASE_VARIABLE = 'STAGECRAFT_RELEASE';
/** Names the locator variables added at publish time, so that reading a version back leaves them out of its stored config. */
export const LOCATORS_VARIABLE = 'STAGECRAFT_LOCATORS';

type LocatedManifest = Pick<Manifest, 'app' | 'strategy' | 'resources' | 'functions'>;

/** `STAGECRAFT_QUEUE_<NAME>_URL`, `_TOPIC_<NAME>_ARN`, `_FUNCTION_<NAME>` of `env`, pointing at the real resources. */
export function awsLocators(manifest: LocatedManifest, env: string, place: Place): Record<string, string> {
  return locatorVariables(manifest, {
    queueUrl: (queue) => queueUrl(place, manifest, queue, env),
    topicArn: (topic) => topicArn(place, manifest, topic, env),
    functionName: (fn) => `${instanceName(manifest, fn, env)}:${aliasName(manifest, env, 'live')}`,
  });
}

export function lambdaEnvironment(
  spec: NewVersion,
  secrets: VersionSecrets | undefined,
  locators: Record<string, string> = {},
): Record<string, string> {
  const located =
    Object.keys(locators).length === 0 ? {} : { ...locators, [LOCATORS_VARIABLE]: Object.keys(locators).join(',') };
  const { [RELEASE_VARIABLE]: _release, ...variables } = openedEnvironment(spec, secrets);
  return { ...variables, ...located };
}

function openedEnvironment(spec: NewVersion, secrets: VersionSecrets | undefined): Record<string, string> {
  const refs = Object.fromEntries(Object.entries(spec.config).filter(([, value]) => pinnedSecrets(value).length > 0));
  if (Object.keys(refs).length === 0) return spec.config;
  if (!secrets) {
    throw new StagecraftError(
      'SECRET_KEY_INVALID',
      `${spec.function} in ${spec.environment} uses secrets (${Object.keys(refs).join(', ')}), and no secret store was given to open them`,
      {
        hint: "deploy through the stagecraft command line, which opens the app's secret store",
      },
    );
  }
  const opened = secrets.resolveVersion({ ...spec, version: 0, publishedAt: '' });
  return { ...opened.environment, [SECRET_REFS_VARIABLE]: JSON.stringify(refs) };
}

/** The stored config of a version read back from Lambda: its secret values replaced by their references. */
export function storedConfig(all: Record<string, string>): Record<string, string> {
  const variables = withoutLocators(all);
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
  return {
    ...rest,
    ...Object.fromEntries(
      Object.keys(rest)
        .filter((key) => key in refs)
        .map((key) => [key, refs[key] ?? '***']),
    ),
  };
}

function withoutLocators(variables: Record<string, string>): Record<string, string> {
  const listed = variables[LOCATORS_VARIABLE];
  if (listed === undefined) return variables;
  const drop = new Set([LOCATORS_VARIABLE, ...listed.split(',')]);
  return Object.fromEntries(Object.entries(variables).filter(([key]) => !drop.has(key)));
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
