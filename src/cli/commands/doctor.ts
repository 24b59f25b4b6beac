/** `stagecraft doctor`: check the invariants of DESIGN §5; exit 1 when one does not hold. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { loadManifest } from '../../manifest/index.js';
import { assertStateNotLost, StateStore } from '../../state/index.js';
import { EXIT, isStagecraftError } from '../../errors.js';
import { doctor, type DoctorReport } from '../../promotion/index.js';
import { stateFile, withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

export function registerDoctor(program: Command): void {
  withCommonOptions(
    program
      .command('doctor')
      .description(
        'check the invariants: artifacts, versions, aliases, ledger, promotions, lock (on aws: in Lambda and CloudFormation)',
      ),
  ).action((options: CommonOptions) =>
    execute(options, async (out) => {
      const report = await stateReport(options.dir);
      if (report) {
        out.result(report, render);
        return EXIT.failed;
      }
      return withApp(
        options.dir,
        out,
        async (app) => {
          // With shared state the ledger read is the team's: this machine's records go there first.
          if (app.sharedLedger) await app.flush();
          const report = await doctor(app);
          out.result(report, render);
          return report.ok ? EXIT.ok : EXIT.failed;
        },
        { readOnly: true },
      );
    }),
  );
}

function render(r: DoctorReport): string {
  return [
    ...r.checks.flatMap((c) => [
      `${c.status === 'ok' ? 'ok  ' : c.status === 'warn' ? 'warn' : 'FAIL'}  ${c.name.padEnd(13)} ${c.message}`,
      ...(c.details ?? []).map((line) => `        ${line}`),
    ]),
    r.ok ? 'every invariant holds' : 'some invariants do not hold',
  ].join('\n');
}

/** An emptied or corrupt state database is what doctor reports first: nothing else can be checked without it. */
async function stateReport(dir: string): Promise<DoctorReport | undefined> {
  try {
    const path = stateFile((await loadManifest(dir)).appDir);
    assertStateNotLost(path);
    if (existsSync(path)) StateStore.open(path, { readonly: true }).close();
    return undefined;
  } catch (error) {
    if (!isStagecraftError(error) || (error.code !== 'STATE_MISSING' && error.code !== 'STATE_CORRUPT')) throw error;
    return {
      ok: false,
      checks: [
        {
          name: 'state',
          status: 'fail',
          message: error.message,
          ...(error.hint ? { details: [`hint: ${error.hint}`] } : {}),
        },
      ],
    };
  }
}
