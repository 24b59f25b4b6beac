/**
 * .gitlab-ci.yml: a `check` job for other branches, on main `build`, `promote` and one
 * `when: manual` job per gated environment with its `environment:`, and `gc` on a scheduled
 * pipeline and when a branch environment is stopped (https://docs.gitlab.com/ci/yaml/).
 */
import { header, oidcCommand, RELEASE_FILE, scalar, scriptLines, type CiPlan, type Command } from './plan.js';

// GitLab puts the token named under `id_tokens` in that variable (https://docs.gitlab.com/ci/secrets/id_token_authentication/).
const OIDC = oidcCommand('AWS_ID_TOKEN');
const NOT_SCHEDULED = '$CI_PIPELINE_SOURCE != "schedule"';

interface Job {
  id: string;
  comment: string;
  stage: string;
  commands: Command[];
  rule?: string;
  needs?: string[];
  manual?: boolean;
  environment?: string[];
  artifacts?: string[];
}

function job(spec: Job): string[] {
  return [
    `# ${spec.comment}`,
    `${spec.id}:`,
    `  stage: ${spec.stage}`,
    ...(spec.rule ? ['  rules:', `    - if: ${scalar(spec.rule)}`] : []),
    ...(spec.needs ? [`  needs: [${spec.needs.join(', ')}]`] : []),
    ...(spec.manual ? ['  when: manual'] : []),
    ...(spec.environment ? ['  environment:', ...spec.environment.map((line) => `    ${line}`)] : []),
    '  id_tokens:',
    '    AWS_ID_TOKEN:',
    '      aud: sts.amazonaws.com',
    '  script:',
    ...scriptLines([OIDC, ...spec.commands], '    '),
    ...(spec.artifacts
      ? ['  artifacts:', '    paths:', ...spec.artifacts.map((path) => `      - ${scalar(path)}`)]
      : []),
    '',
  ];
}

export function renderGitlab(plan: CiPlan): string {
  const onMain = `${NOT_SCHEDULED} && $CI_COMMIT_BRANCH == "main"`;
  const jobs: string[] = [
    ...job({
      id: 'check',
      stage: 'check',
      rule: `${NOT_SCHEDULED} && $CI_COMMIT_BRANCH != "main"`,
      commands: plan.checks,
      ...(plan.branchEnvironment ? { artifacts: [RELEASE_FILE] } : {}),
      comment: 'every branch but main (and its merge requests): the checks and a build; nothing is promoted',
    }),
  ];
  if (plan.branchEnvironment) {
    jobs.push(
      ...job({
        id: 'branch-environment',
        stage: 'promote',
        rule: `${NOT_SCHEDULED} && $CI_COMMIT_BRANCH != "main"`,
        needs: ['check'],
        commands: plan.branchEnvironment,
        environment: ['name: review/$CI_COMMIT_REF_SLUG', 'on_stop: stop-branch-environment'],
        comment: 'ci.branchEnvironments: this branch gets its own environment',
      }),
      ...job({
        id: 'stop-branch-environment',
        stage: 'promote',
        rule: `${NOT_SCHEDULED} && $CI_COMMIT_BRANCH != "main"`,
        needs: ['branch-environment'],
        manual: true,
        commands: plan.gc,
        environment: ['name: review/$CI_COMMIT_REF_SLUG', 'action: stop'],
        comment: 'the branch is gone (or stopped by hand): collect what expired',
      }),
    );
  }
  jobs.push(
    ...job({
      id: 'build',
      stage: 'build',
      rule: onMain,
      commands: plan.build,
      artifacts: [RELEASE_FILE],
      comment: 'main: build once; the release id is the artifact every later job reads',
    }),
  );
  let previous = 'build';
  if (plan.promote) {
    jobs.push(
      ...job({
        id: 'promote',
        stage: 'promote',
        rule: onMain,
        needs: ['build'],
        commands: plan.promote.commands,
        environment: [`name: ${scalar(plan.promote.to)}`],
        comment: `automatic up to ${plan.promote.to}, the environment before the first manual gate`,
      }),
    );
    previous = 'promote';
  }
  for (const gated of plan.gated) {
    const id = `approve-${gated.env}`;
    jobs.push(
      ...job({
        id,
        stage: 'approve',
        rule: onMain,
        needs: previous === 'build' ? ['build'] : ['build', previous],
        manual: true,
        commands: gated.commands,
        environment: [`name: ${scalar(gated.env)}`],
        comment: `${gated.env}: the button; protect it in Settings → CI/CD → Protected environments → ${gated.env} (who may deploy)`,
      }),
    );
    previous = id;
  }
  jobs.push(
    ...job({
      id: 'gc',
      stage: 'gc',
      rule: '$CI_PIPELINE_SOURCE == "schedule"',
      commands: plan.gc,
      comment: 'a scheduled pipeline (Build → Pipeline schedules): destroy expired ephemeral environments',
    }),
  );
  return [
    ...header('gitlab', plan),
    'stages: [check, build, promote, approve, gc]',
    'default:',
    '  image: node:20',
    'variables:',
    '  # the ledger records who started the pipeline or pressed the button',
    `  STAGECRAFT_ACTOR: ${scalar('gitlab:$GITLAB_USER_LOGIN')}`,
    '',
    ...jobs,
  ].join('\n');
}
