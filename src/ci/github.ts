/**
 * .github/workflows/stagecraft.yml: a `check` job for branches and pull requests, and on main a
 * `build` job, a `promote` job and one job per gated environment whose `environment:` required
 * reviewers are the button (https://docs.github.com/en/actions/deployment/targeting-different-environments/using-environments-for-deployment).
 */
import { header, RELEASE_FILE, scalar, type CiPlan, type Command } from './plan.js';

const SETUP = [
  '      - uses: actions/checkout@v4',
  '      - uses: actions/setup-node@v4',
  '        with:',
  '          node-version: 20',
];

/** OIDC: the job's token (id-token: write) for the role in the repository variable AWS_ROLE_ARN. */
function credentials(region: string): string[] {
  return [
    "      # AWS credentials: this job's OIDC token exchanged for the role in the variable AWS_ROLE_ARN (AssumeRoleWithWebIdentity)",
    '      - uses: aws-actions/configure-aws-credentials@v4',
    '        with:',
    `          role-to-assume: ${scalar('${{ vars.AWS_ROLE_ARN }}')}`,
    `          aws-region: ${scalar(region)}`,
  ];
}

function runs(commands: Command[]): string[] {
  return commands.flatMap((command) => [`      # ${command.why}`, `      - run: ${scalar(command.run)}`]);
}

const DOWNLOAD = [
  '      # the release the build job made: only this artifact is carried over',
  '      - uses: actions/download-artifact@v4',
  '        with:',
  '          name: release',
  '          path: .stagecraft-ci',
];

const UPLOAD = [
  '      - uses: actions/upload-artifact@v4',
  '        with:',
  '          name: release',
  `          path: ${RELEASE_FILE}`,
];

interface Job {
  id: string;
  comment: string;
  condition?: string;
  needs?: string[];
  environment?: string;
  steps: string[];
}

function job(spec: Job): string[] {
  return [
    `  # ${spec.comment}`,
    `  ${spec.id}:`,
    ...(spec.condition ? [`    if: ${scalar(spec.condition)}`] : []),
    ...(spec.needs ? [`    needs: [${spec.needs.join(', ')}]`] : []),
    ...(spec.environment ? [`    environment: ${scalar(spec.environment)}`] : []),
    '    runs-on: ubuntu-latest',
    '    steps:',
    ...spec.steps,
  ];
}

export function renderGithub(plan: CiPlan): string {
  const onMain = "github.event_name == 'push' && github.ref_name == 'main'";
  const jobs: string[] = [
    ...job({
      id: 'check',
      comment: 'every branch but main, and pull requests: the checks and a build; nothing is promoted',
      condition: "github.event_name == 'pull_request' || (github.event_name == 'push' && github.ref_name != 'main')",
      steps: [...SETUP, ...credentials(plan.region), ...runs(plan.checks), ...(plan.branchEnvironment ? UPLOAD : [])],
    }),
    ...(plan.branchEnvironment
      ? job({
          id: 'branch-environment',
          comment: 'ci.branchEnvironments: this branch gets its own environment',
          needs: ['check'],
          condition: "github.event_name == 'push' && github.ref_name != 'main'",
          steps: [...SETUP, ...credentials(plan.region), ...DOWNLOAD, ...runs(plan.branchEnvironment)],
        })
      : []),
    ...job({
      id: 'build',
      comment: 'main: build once; the release id is the artifact every later job reads',
      condition: onMain,
      steps: [...SETUP, ...credentials(plan.region), ...runs(plan.build), ...UPLOAD],
    }),
  ];
  let previous = 'build';
  if (plan.promote) {
    jobs.push(
      ...job({
        id: 'promote',
        comment: `automatic up to ${plan.promote.to}, the environment before the first manual gate`,
        needs: [previous],
        environment: plan.promote.to,
        steps: [...SETUP, ...credentials(plan.region), ...DOWNLOAD, ...runs(plan.promote.commands)],
      }),
    );
    previous = 'promote';
  }
  for (const gated of plan.gated) {
    const id = `approve-${gated.env}`;
    jobs.push(
      ...job({
        id,
        needs: [previous],
        environment: gated.env,
        comment: `${gated.env}: the button — set its required reviewers in Settings → Environments → ${gated.env} → Deployment protection rules`,
        steps: [...SETUP, ...credentials(plan.region), ...DOWNLOAD, ...runs(gated.commands)],
      }),
    );
    previous = id;
  }
  jobs.push(
    ...job({
      id: 'gc',
      comment: 'on the schedule, and when a branch is deleted: destroy expired ephemeral environments',
      condition: "github.event_name == 'schedule' || github.event_name == 'delete'",
      steps: [...SETUP, ...credentials(plan.region), ...runs(plan.gc)],
    }),
  );
  return [
    ...header('github', plan),
    'name: stagecraft',
    'on:',
    '  push:',
    `    branches: [${scalar('**')}]`,
    '  pull_request:',
    '  delete:',
    '  schedule:',
    `    - cron: ${scalar('17 4 * * *')}`,
    'permissions:',
    '  contents: read',
    '  id-token: write',
    'env:',
    '  # the ledger records who started the run or approved the job',
    `  STAGECRAFT_ACTOR: ${scalar('github:${{ github.triggering_actor }}')}`,
    'jobs:',
    ...jobs,
    '',
  ].join('\n');
}
