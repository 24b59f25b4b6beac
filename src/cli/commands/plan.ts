/**
 * `stagecraft plan <env>`: what applying the manifest's infrastructure to the environment's
 * stack would change, as a CloudFormation change set that is created, read and deleted — never
 * executed. Code and config changes are not stack changes: they become versions at deploy time.
 */
import type { Command } from 'commander';
import { StagecraftError } from '../../errors.js';
import { loadManifest } from '../../manifest/index.js';
import { requireEnvironment } from '../../promotion/index.js';
import type { StackPlan } from '../../providers/aws/index.js';
import { awsClientsFor } from '../aws.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

export function registerPlan(program: Command): void {
  withCommonOptions(
    program
      .command('plan <env>')
      .description("show the change set of an environment's stack without executing it (aws)"),
  ).action((env: string, options: CommonOptions) =>
    execute(options, async (out) => {
      const loaded = await loadManifest(options.dir);
      const { manifest } = loaded;
      requireEnvironment(manifest, env);
      if (manifest.provider !== 'aws') {
        throw new StagecraftError(
          'ARGUMENT_INVALID',
          `plan compares a stack on AWS, and ${manifest.app} has provider: ${manifest.provider}`,
          {
            hint: 'set `provider: aws` in stagecraft.yml; `stagecraft synth <env>` prints the template without AWS',
          },
        );
      }
      const { StackDeployer, stackName, synthesize } = await import('../../providers/aws/index.js');
      const clients = await awsClientsFor(loaded);
      try {
        const name = stackName(manifest, env);
        out.progress(`planning stack ${name}`);
        const plan = await new StackDeployer({ clients }).plan(name, synthesize(manifest, env));
        out.result(plan, render);
      } finally {
        clients.destroy();
      }
    }),
  );
}

function render(plan: StackPlan): string {
  if (!plan.changed) return `stack ${plan.stack}: no infrastructure change`;
  const lines = [`stack ${plan.stack}${plan.exists ? '' : ' (does not exist yet)'}: ${plan.changes.length} change(s)`];
  for (const change of plan.changes) {
    lines.push(
      `  ${change.action.padEnd(8)} ${change.logicalId.padEnd(32)} ${change.type}${change.replacement ? `  replacement: ${change.replacement}` : ''}`,
    );
  }
  return lines.join('\n');
}
