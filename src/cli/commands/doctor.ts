/** `stagecraft doctor`: check the invariants of DESIGN §5; exit 1 when one does not hold. */
import type { Command } from 'commander';
import { EXIT } from '../../errors.js';
import { doctor } from '../../promotion/index.js';
import { withApp } from '../app.js';
import { execute, withCommonOptions, type CommonOptions } from '../command.js';

export function registerDoctor(program: Command): void {
  withCommonOptions(program.command('doctor').description('check the invariants: artifacts, versions, aliases, ledger, promotions, lock (on aws: in Lambda and CloudFormation)'))
    .action((options: CommonOptions) => execute(options, async (out) => withApp(options.dir, out, async (app) => {
      // With shared state the ledger read is the team's: this machine's records go there first.
      if (app.sharedLedger) await app.flush();
      const report = await doctor(app);
      out.result(report, (r) => [
        ...r.checks.flatMap((c) => [`${c.status === 'ok' ? 'ok  ' : c.status === 'warn' ? 'warn' : 'FAIL'}  ${c.name.padEnd(13)} ${c.message}`, ...(c.details ?? []).map((line) => `        ${line}`)]),
        r.ok ? 'every invariant holds' : 'some invariants do not hold',
      ].join('\n'));
      return report.ok ? EXIT.ok : EXIT.failed;
    }, { readOnly: true })));
}
