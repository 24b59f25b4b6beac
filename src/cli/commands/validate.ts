/** `stagecraft validate`: check the manifest and change nothing. */
import type { Command } from 'commander';
import { loadManifest } from '../../manifest/index.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

export function registerValidate(program: Command): void {
  withCommonOptions(program.command('validate').description('check the manifest')).action((options: CommonOptions) =>
    execute(options, async (out) => {
      const { manifest, file, digest } = await loadManifest(options.dir, { fresh: true });
      out.result(
        {
          app: manifest.app,
          file,
          digest,
          strategy: manifest.strategy,
          provider: manifest.provider,
          environments: manifest.environments.map((environment) => environment.name),
          functions: Object.keys(manifest.functions),
        },
        (r) => `${r.file} is valid: ${r.functions.length} function(s), environments ${r.environments.join(' → ')}`,
      );
    }),
  );
}
