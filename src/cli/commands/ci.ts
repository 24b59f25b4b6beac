/** `stagecraft ci bitbucket|github|gitlab [--write|--check]`: the delivery pipeline of this manifest. */
import type { Command } from 'commander';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { CI_KINDS, generatePipeline, PIPELINE_FILES, type CiKind } from '../../ci/index.js';
import { EXIT, StagecraftError } from '../../errors.js';
import { loadManifest } from '../../manifest/index.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

interface CiFlags extends CommonOptions {
  write?: boolean;
  check?: boolean;
}

export function registerCi(program: Command): void {
  withCommonOptions(
    program
      .command('ci <kind>')
      .description(
        `the CI pipeline of this manifest (${CI_KINDS.join(', ')}): printed, --write to its file, --check against it`,
      ),
  )
    .option(
      '--write',
      'write it where the CI reads it (bitbucket-pipelines.yml, .github/workflows/stagecraft.yml, .gitlab-ci.yml)',
    )
    .option('--check', 'exit 1 when the committed file differs from what the manifest generates')
    .action((kind: string, options: CiFlags) =>
      execute(options, async (out) => {
        if (!(CI_KINDS as readonly string[]).includes(kind)) {
          throw new StagecraftError('ARGUMENT_INVALID', `no CI named "${kind}"`, {
            hint: `one of: ${CI_KINDS.join(', ')}`,
          });
        }
        if (options.write && options.check)
          throw new StagecraftError('ARGUMENT_INVALID', '--write and --check exclude each other', {
            hint: 'write it once, then check it in the pipeline',
          });
        const { manifest, appDir } = await loadManifest(options.dir, { fresh: true });
        const text = generatePipeline(manifest, kind as CiKind);
        const file = join(appDir, PIPELINE_FILES[kind as CiKind]);
        const shown = relative(process.cwd(), file) || file;
        if (options.check) {
          const committed = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
          const line = committed === undefined ? 0 : firstDifference(committed, text);
          out.result({ kind, file: shown, upToDate: line === undefined }, (r) =>
            r.upToDate
              ? `${r.file} is what stagecraft.yml generates`
              : `${r.file} ${committed === undefined ? 'is missing' : `differs from what stagecraft.yml generates (first at line ${line})`}; run \`stagecraft ci ${kind} --write\` and commit it`,
          );
          return line === undefined ? EXIT.ok : EXIT.failed;
        }
        if (options.write) {
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, text);
          out.result({ kind, file: shown, written: true }, (r) => `wrote ${r.file}`);
          return EXIT.ok;
        }
        out.result({ kind, file: shown, content: text }, (r) => r.content);
        return EXIT.ok;
      }),
    );
}

/** The first line (1-based) where the two texts differ; undefined when they are the same bytes. */
function firstDifference(a: string, b: string): number | undefined {
  if (a === b) return undefined;
  const left = a.split('\n');
  const right = b.split('\n');
  const index = left.findIndex((line, i) => line !== right[i]);
  return (index === -1 ? left.length : index) + 1;
}
