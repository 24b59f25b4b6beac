/**
 * What every generated pipeline does, whichever CI runs it: the commands of each step, derived
 * from the manifest's chain and `ci` field. The renderers (bitbucket.ts, github.ts, gitlab.ts)
 * only lay these out in their CI's format.
 */
import { StagecraftError } from '../errors.js';
import type { Manifest } from '../manifest/index.js';

export const CI_KINDS = ['bitbucket', 'github', 'gitlab'] as const;
export type CiKind = (typeof CI_KINDS)[number];

/** The small file `build` writes and every later step reads: the release the pipeline built. */
export const RELEASE_FILE = '.stagecraft-ci/release';
const RELEASE = `"$(cat ${RELEASE_FILE})"`;
const STAGECRAFT = 'npx stagecraft';
/** The variable each CI sets to the branch being built. */
const BRANCH: Record<CiKind, string> = {
  bitbucket: '$BITBUCKET_BRANCH',
  github: '$GITHUB_REF_NAME',
  gitlab: '$CI_COMMIT_REF_NAME',
};

/** One shell command and the one-line comment the generated file shows above it. */
export interface Command {
  run: string;
  why: string;
}

/** A manual step: opens the gate of `env` for the release the pipeline built. */
export interface GatedStep {
  env: string;
  previous: string | undefined;
  commands: Command[];
}

export interface CiPlan {
  app: string;
  region: string;
  /** Install and the app's own checks, then Stagecraft's validate and build: every branch and pull request (writing RELEASE_FILE with branch environments). */
  checks: Command[];
  /** The same, on main, with the build writing RELEASE_FILE. */
  build: Command[];
  /** Main: promote automatically up to the environment before the first manual gate (none when the first one is gated). */
  promote: { to: string; commands: Command[] } | undefined;
  /** One manual step per gated environment, in chain order. */
  gated: GatedStep[];
  /** Every branch other than main deploys its own environment (`ci.branchEnvironments`). */
  branchEnvironment: Command[] | undefined;
  /** On a schedule (and on branch delete where the CI has it): destroy expired ephemeral environments. */
  gc: Command[];
}

export function planPipeline(manifest: Manifest, kind: CiKind): CiPlan {
  if (manifest.provider !== 'aws' || manifest.state?.backend !== 'dynamodb') {
    throw new StagecraftError(
      'ARGUMENT_INVALID',
      `a CI pipeline runs each step on a fresh runner, so ${manifest.app} needs the shared state of the aws provider`,
      {
        hint: 'set `provider: aws` and `state: { backend: dynamodb, table: <name> }` in stagecraft.yml',
      },
    );
  }
  const ci = manifest.ci ?? { branchEnvironments: false };
  const install: Command[] = ci.install
    ? [{ run: ci.install, why: 'install the app and Stagecraft (ci.install)' }]
    : [];
  const own = (build: Command): Command[] => [
    ...install,
    {
      run: `${STAGECRAFT} ci ${kind} --check`,
      why: 'this file is what stagecraft.yml generates (exit 1 when it was edited by hand)',
    },
    { run: `${STAGECRAFT} validate`, why: 'the manifest is valid' },
    ...(ci.lint ? [{ run: ci.lint, why: "the app's own lint (ci.lint)" }] : []),
    ...(ci.test ? [{ run: ci.test, why: "the app's own tests (ci.test)" }] : []),
    build,
  ];
  const chain = manifest.environments;
  const firstGate = chain.findIndex((env) => env.approval === 'manual');
  const automatic = firstGate === -1 ? chain : chain.slice(0, firstGate);
  const last = chain[chain.length - 1]?.name;
  const prune: Command = {
    run: `${STAGECRAFT} prune --yes`,
    why: `the release reached ${last}: delete function versions no rollback can need`,
  };
  const to = automatic[automatic.length - 1]?.name;
  return {
    app: manifest.app,
    region: manifest.region,
    // With branch environments the release goes on to the next step, as on main.
    checks: own(
      ci.branchEnvironments
        ? {
            run: `${STAGECRAFT} build --release-file ${RELEASE_FILE}`,
            why: "bundle a release (the credential gate included) for this branch's environment",
          }
        : {
            run: `${STAGECRAFT} build`,
            why: 'bundle a release; the credential gate stops it on a secret in the sources',
          },
    ),
    build: own({
      run: `${STAGECRAFT} build --release-file ${RELEASE_FILE}`,
      why: `build once; ${RELEASE_FILE} names the release for every later step`,
    }),
    promote:
      to === undefined
        ? undefined
        : {
            to,
            commands: [
              ...install,
              {
                run: `${STAGECRAFT} promote --release ${RELEASE} --to ${to}`,
                why: `${automatic.map((env) => env.name).join(' → ')}: smoke tests, then live; a failure rolls back and fails the pipeline`,
              },
              ...(to === last ? [prune] : []),
            ],
          },
    gated: (firstGate === -1 ? [] : chain.slice(firstGate)).map((env, offset) => {
      const previous = chain[firstGate + offset - 1]?.name;
      return {
        env: env.name,
        previous,
        commands: [
          ...install,
          ...(previous === undefined
            ? []
            : [
                {
                  run: `${STAGECRAFT} diff ${previous} ${env.name} --release ${RELEASE}`,
                  why: `what this button lets into ${env.name}`,
                },
              ]),
          {
            run: `${STAGECRAFT} approve ${env.name} --release ${RELEASE}`,
            why: `promote exactly the built release into ${env.name} (exit 3 while a soak time runs)`,
          },
          ...(env.name === last ? [prune] : []),
        ],
      };
    }),
    branchEnvironment: ci.branchEnvironments
      ? [
          ...install,
          {
            run: `${STAGECRAFT} deploy --ephemeral --name "$(git log -1 --format=%al)/${BRANCH[kind]}" --release ${RELEASE}`,
            why: "this branch's own environment dev-<who>-<branch>; its URL is in the log",
          },
        ]
      : undefined,
    gc: [...install, { run: `${STAGECRAFT} gc`, why: 'destroy ephemeral environments whose time is up' }],
  };
}

/**
 * Credentials: the CI's OIDC token, exchanged by the AWS SDK for the role in AWS_ROLE_ARN (a CI
 * variable, never in the repository) with AssumeRoleWithWebIdentity
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-assume-role-credentials.html); without a
 * token, the secured variables AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY the SDK reads itself.
 */
export function oidcCommand(tokenVariable: string): Command {
  return {
    run:
      `if [ -n "\${${tokenVariable}:-}" ]; then export AWS_WEB_IDENTITY_TOKEN_FILE="$PWD/.stagecraft-ci/web-identity-token"; ` +
      `mkdir -p .stagecraft-ci; printf %s "$${tokenVariable}" > "$AWS_WEB_IDENTITY_TOKEN_FILE"; fi`,
    why: `AWS credentials: the OIDC token for the role in AWS_ROLE_ARN (or the secured AWS_ACCESS_KEY_ID)`,
  };
}

/** The file each CI reads its pipeline from, relative to the repository root. */
export const PIPELINE_FILES: Record<CiKind, string> = {
  bitbucket: 'bitbucket-pipelines.yml',
  github: '.github/workflows/stagecraft.yml',
  gitlab: '.gitlab-ci.yml',
};

/** A YAML scalar: plain when that reads back as the same string, else single-quoted (' doubled). */
export function scalar(text: string): string {
  const plain =
    /^[A-Za-z0-9_./$][A-Za-z0-9_./$@ =+-]*$/.test(text) &&
    !/\s$/.test(text) &&
    !/^(true|false|null|yes|no|on|off|~|[\d.]+)$/i.test(text);
  if (plain) return text;
  return text.includes('\n') ? JSON.stringify(text) : `'${text.replaceAll("'", "''")}'`;
}

/** The lines of a YAML block sequence of commands, each with its comment, indented by `indent`. */
export function scriptLines(commands: Command[], indent: string): string[] {
  return commands.flatMap((command) => [`${indent}# ${command.why}`, `${indent}- ${scalar(command.run)}`]);
}

export function header(kind: CiKind, plan: CiPlan): string[] {
  return [
    `# Generated by \`stagecraft ci ${kind} --write\` from stagecraft.yml (app ${plan.app}); edit the manifest, not this file:`,
    `# \`stagecraft ci ${kind} --check\` fails the pipeline when the two differ.`,
    '# Credentials: OIDC for the role in AWS_ROLE_ARN, or secured AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; never the repository.',
    '# State: the shared DynamoDB table of stagecraft.yml (lock, ledger, releases) and artifacts in S3, so every step sees one ledger.',
  ];
}
