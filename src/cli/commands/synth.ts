/**
 * `stagecraft synth <env>`: the CloudFormation template of the environment's stack, as the aws
 * provider would apply it. A pure function of the manifest: no credentials, no state, no network.
 */
import type { Command } from 'commander';
import { loadManifest } from '../../manifest/index.js';
import { requireEnvironment } from '../../promotion/index.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

export function registerSynth(program: Command): void {
  withCommonOptions(
    program.command('synth <env>').description("print the CloudFormation template of an environment's stack (aws)"),
  ).action((env: string, options: CommonOptions) =>
    execute(options, async (out) => {
      const { manifest } = await loadManifest(options.dir);
      requireEnvironment(manifest, env);
      // The template is a pure function of the manifest: only its own modules, not the SDK clients the provider's barrel loads.
      const [{ synthesize, templateDigest, templateText }, { stackName }] = await Promise.all([
        import('../../providers/aws/template.js'),
        import('../../providers/aws/aws-names.js'),
      ]);
      const template = synthesize(manifest, env);
      out.result({ stack: stackName(manifest, env), digest: templateDigest(template), template }, () =>
        templateText(template),
      );
    }),
  );
}
