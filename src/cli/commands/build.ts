/** `stagecraft build [--release-file F]`: bundle every function into a release (same inputs → same release). */
import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { buildRelease, shareRelease } from '../../promotion/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

export function registerBuild(program: Command): void {
  withCommonOptions(program.command('build').description('bundle every function into an immutable release'))
    .option('--release-file <file>', 'also write the release id to this file (a CI artifact for the later steps)')
    .action((options: CommonOptions & { releaseFile?: string }) =>
      execute(options, async (out) =>
        withApp(options.dir, out, async (app) => {
          const started = performance.now();
          const { release, created, functions, scannedFiles, allowedCredentials } = await buildRelease(app, {
            actorReady: app.prefetchActor(),
          });
          const shared = await shareRelease(app, release);
          if (options.releaseFile !== undefined) {
            const file = resolve(options.releaseFile);
            mkdirSync(dirname(file), { recursive: true });
            writeFileSync(file, `${release.id}\n`);
          }
          const result = {
            release: release.id,
            created,
            commit: release.commit,
            dirty: release.dirty,
            manifestDigest: release.manifestDigest,
            durationMs: Math.round(performance.now() - started),
            functions,
            scannedFiles,
            allowedCredentials,
            sharedArtifacts: shared,
          };
          out.result(result, (r) =>
            [
              `${r.created ? 'built' : 'unchanged:'} release ${r.release}${r.commit ? ` from ${r.commit.slice(0, 12)}${r.dirty ? ' (dirty)' : ''}` : ''} in ${r.durationMs} ms`,
              ...r.functions.map(
                (fn) =>
                  `  ${fn.function.padEnd(20)} ${fn.sha256.slice(0, 16)}  ${String(fn.size).padStart(9)} B${fn.cached ? '  (cached)' : ''}`,
              ),
              `  credential scan: ${r.scannedFiles} file(s), ${r.allowedCredentials.length === 0 ? 'nothing found' : `${r.allowedCredentials.length} finding(s) allowed and recorded in the release`}`,
              ...(r.sharedArtifacts > 0
                ? [`  ${r.sharedArtifacts} artifact(s) in the shared store, for runners that did not build them`]
                : []),
            ].join('\n'),
          );
        }),
      ),
    );
}
