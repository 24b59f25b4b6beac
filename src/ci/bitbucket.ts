/**
 * bitbucket-pipelines.yml: `default` checks every branch, `branches.main` builds once and
 * promotes, one `trigger: manual` step per gated environment is its deployment button, and a
 * custom pipeline runs `gc` on a schedule (https://support.atlassian.com/bitbucket-cloud/docs/bitbucket-pipelines-configuration-reference/).
 */
import { header, oidcCommand, RELEASE_FILE, scalar, scriptLines, type CiPlan, type Command } from './plan.js';

// Bitbucket hands a step its OIDC token in BITBUCKET_STEP_OIDC_TOKEN when the step says `oidc: true`.
const OIDC = oidcCommand('BITBUCKET_STEP_OIDC_TOKEN');
const ACTOR: Command = {
  run: 'export STAGECRAFT_ACTOR="bitbucket:${BITBUCKET_STEP_TRIGGERER_UUID:-pipeline}"',
  why: 'the ledger records who pressed the button',
};

interface Step {
  name: string;
  commands: Command[];
  comment?: string;
  manual?: boolean;
  deployment?: string;
  artifacts?: string[];
}

function step(indent: string, spec: Step): string[] {
  return [
    ...(spec.comment ? [`${indent}# ${spec.comment}`] : []),
    `${indent}- step:`,
    `${indent}    name: ${scalar(spec.name)}`,
    ...(spec.manual ? [`${indent}    trigger: manual`] : []),
    ...(spec.deployment ? [`${indent}    deployment: ${scalar(spec.deployment)}`] : []),
    `${indent}    oidc: true`,
    `${indent}    script:`,
    ...scriptLines([OIDC, ...spec.commands], `${indent}      `),
    ...(spec.artifacts
      ? [`${indent}    artifacts:`, ...spec.artifacts.map((path) => `${indent}      - ${scalar(path)}`)]
      : []),
  ];
}

export function renderBitbucket(plan: CiPlan): string {
  const main: string[] = [
    ...step('      ', {
      name: 'build',
      comment: 'main: build once; the release id is the artifact every later step reads',
      commands: plan.build,
      artifacts: [RELEASE_FILE],
    }),
    ...(plan.promote
      ? step('      ', {
          name: `promote to ${plan.promote.to}`,
          deployment: plan.promote.to,
          commands: plan.promote.commands,
          comment: `automatic up to ${plan.promote.to}, the environment before the first manual gate`,
        })
      : []),
    ...plan.gated.flatMap((gated) =>
      step('      ', {
        name: `approve ${gated.env}`,
        manual: true,
        deployment: gated.env,
        commands: [ACTOR, ...gated.commands],
        comment: `${gated.env}: the deployment button (Deployments → ${gated.env}; restrict who may run it in Repository settings → Deployments)`,
      }),
    ),
  ];
  return [
    ...header('bitbucket', plan),
    'image: node:20',
    '',
    'pipelines:',
    '  # every branch but main, and its pull requests: the checks and a build; nothing is promoted',
    '  default:',
    ...step('    ', {
      name: 'check',
      commands: plan.checks,
      ...(plan.branchEnvironment ? { artifacts: [RELEASE_FILE] } : {}),
    }),
    ...(plan.branchEnvironment
      ? step('    ', {
          name: 'branch environment',
          commands: plan.branchEnvironment,
          comment: 'ci.branchEnvironments: this branch gets its own environment',
        })
      : []),
    '  branches:',
    '    main:',
    ...main,
    '  custom:',
    '    # run it on a schedule: Pipelines → Schedules → New schedule → stagecraft-gc, daily',
    '    stagecraft-gc:',
    ...step('      ', { name: 'gc', commands: plan.gc }),
    '',
  ].join('\n');
}
