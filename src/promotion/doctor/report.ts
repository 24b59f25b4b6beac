/** The shape of `doctor`'s answer, and how a list of problems becomes one check of it. */

export interface DoctorCheck {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  message: string;
  details?: string[];
}
export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

/** The checks of the control plane, wherever it lives; `platform`: those only a platform has (aws: stacks, bindings). */
export interface ControlPlaneChecks {
  versions: DoctorCheck;
  aliases: DoctorCheck;
  ledger: DoctorCheck;
  environments: DoctorCheck;
  platform: DoctorCheck[];
}

const MAX_DETAILS = 20;

export function check(
  name: string,
  problems: string[],
  ok: string,
  failed: string,
  status: 'warn' | 'fail' = 'fail',
): DoctorCheck {
  if (problems.length === 0) return { name, status: 'ok', message: ok };
  return {
    name,
    status,
    message: failed,
    details: problems
      .slice(0, MAX_DETAILS)
      .concat(problems.length > MAX_DETAILS ? [`… and ${problems.length - MAX_DETAILS} more`] : []),
  };
}

/** An alias that is not where its last ledger record says, said the same way whichever store holds aliases. */
export function aliasLedgerProblem(
  instance: string,
  alias: string,
  actual: { version: number; revision: number } | null,
  recorded: { version: number | null; revision: number | null; seq: number } | null,
): string {
  return `${instance} ${alias}: is ${actual ? `v${actual.version} (revision ${actual.revision})` : 'absent'}, the ledger says ${recorded ? (recorded.version === null ? 'removed' : `v${recorded.version} (revision ${recorded.revision ?? '?'}, #${recorded.seq})`) : 'nothing'}`;
}

/** With no promotion under way, each environment should run one release across its functions. */
export function mixedReleases(problems: string[]): DoctorCheck {
  return check(
    'environments',
    problems,
    'each environment runs one release',
    'environments run a mix of releases (a partial rollback?)',
    'warn',
  );
}
