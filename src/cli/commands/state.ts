/** `stagecraft state backup|restore [--from FILE]|list`: snapshots of the state database and the way back. */
import type { Command } from 'commander';
import { loadManifest } from '../../manifest/index.js';
import { listBackups, restoreBackup, verifyDatabase } from '../../state/index.js';
import { stateFile, withApp } from '../app.js';
import { execute, EXIT_CODES_HELP, withCommonOptions, type CommonOptions } from '../command.js';

export function registerState(program: Command): void {
  const state = program
    .command('state')
    .description('snapshots of the state database: backup, restore, list')
    .addHelpText('after', EXIT_CODES_HELP);
  withCommonOptions(
    state.command('backup').description('take a verified snapshot of the state database now (the newest 20 are kept)'),
  ).action((options: CommonOptions) =>
    execute(options, async (out) =>
      withApp(options.dir, out, async (app) => {
        const backup = await app.store.backup('manual');
        out.result({ backup }, (r) => `backed up to ${r.backup?.file ?? '(nothing: no state database)'}`);
      }),
    ),
  );
  withCommonOptions(
    state
      .command('restore')
      .description(
        'put a backup in place of the state database (default: the newest good one); the replaced file is kept',
      ),
  )
    .option('--from <file>', 'the backup file to restore')
    .action((options: CommonOptions & { from?: string }) =>
      execute(options, async (out) => {
        // The database may be corrupt or gone: only the manifest is read, to find it.
        const { appDir } = await loadManifest(options.dir);
        const result = restoreBackup(stateFile(appDir), options.from, new Date());
        out.result(result, (r) =>
          [
            `restored ${r.restored.file} (taken ${r.restored.takenAt}); what was recorded after it is not in the state`,
            ...(r.replaced ? [`the replaced database is kept as ${r.replaced}`] : []),
            'check it with `stagecraft doctor`',
          ].join('\n'),
        );
      }),
    );
  withCommonOptions(
    state.command('list').description('the backups, newest first, and whether each passes its integrity check'),
  ).action((options: CommonOptions) =>
    execute(options, async (out) => {
      const { appDir } = await loadManifest(options.dir);
      const backups = listBackups(stateFile(appDir)).map((backup) => ({
        ...backup,
        good: verifyDatabase(backup.file).ok,
      }));
      out.result(
        { backups },
        (r) =>
          r.backups
            .map((b) => `${b.good ? 'good' : 'BAD '}  ${b.takenAt}  ${b.reason.padEnd(10)} ${b.bytes} bytes  ${b.file}`)
            .join('\n') || 'no backups yet',
      );
    }),
  );
}
