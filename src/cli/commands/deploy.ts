/** `stagecraft deploy <env> [--release R]`: put a release into one environment. */
import type { Command } from 'commander';
import { deploy } from '../../promotion/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

export function registerDeploy(program: Command): void {
  withCommonOptions(program.command('deploy <env>').description('put a release into one environment (smoke, then live)'))
    .option('--release <release>', 'the release to deploy (default: the newest build)')
    .action((env: string, options: CommonOptions & { release?: string }) => execute(options, async (out) => withApp(options.dir, out, async (app) => {
      const result = await deploy(app, env, options.release);
      out.result(result, (r) => `${r.release} is live in ${r.environment}:\n${r.functions.map((fn) => `  ${fn.function.padEnd(20)} version ${fn.version}${fn.previousLive === null ? '' : ` (was ${fn.previousLive})`}  ${fn.sha256.slice(0, 16)}`).join('\n')}`);
    })));
}
