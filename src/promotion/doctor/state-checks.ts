/**
 * Versions, aliases, the ledger and what each environment runs, where the SQLite state is the
 * control plane itself (the local provider): SQL sees all of it at once, instances the manifest
 * no longer names included.
 */
import { aliasName, instanceName } from '../../manifest/index.js';
import type { AppContext } from '../context.js';
import { aliasLedgerProblem, check, mixedReleases, type ControlPlaneChecks, type DoctorCheck } from './report.js';

export function stateChecks(ctx: Pick<AppContext, 'store' | 'loaded'>, busy: boolean): ControlPlaneChecks {
  return {
    versions: versions(ctx),
    aliases: aliases(ctx),
    ledger: ledger(ctx),
    environments: environments(ctx, busy),
    platform: [],
  };
}

/** Invariant 2: versions name known artifacts and releases. */
function versions(ctx: Pick<AppContext, 'store'>): DoctorCheck {
  const problems = ctx.store.audit
    .orphanVersions()
    .map((row) => `${row.instance} v${row.version}: artifact ${row.sha256.slice(0, 12)} or its release is unknown`);
  return check(
    'versions',
    problems,
    'every version names a known artifact and release',
    'versions point at unknown artifacts',
  );
}

/** Invariant 3: aliases point at existing versions; weights within (0, 1). */
function aliases(ctx: Pick<AppContext, 'store'>): DoctorCheck {
  const problems = ctx.store.audit
    .badAliases()
    .map((row) => `${row.instance} ${row.name} → v${row.version}: ${row.problem}`);
  return check('aliases', problems, 'every alias points at an existing version', 'aliases point at missing versions');
}

/** Invariant 4: every alias is where its last ledger record says. */
function ledger(ctx: Pick<AppContext, 'store'>): DoctorCheck {
  const problems = ctx.store.audit
    .aliasLedgerMismatches()
    .map((row) => aliasLedgerProblem(row.instance, row.alias, row.actual, row.recorded));
  return check(
    'ledger',
    problems,
    'every alias change has its ledger record',
    'aliases changed without a ledger record',
  );
}

/** With no promotion under way, each environment runs one release across its functions. */
function environments(ctx: Pick<AppContext, 'store' | 'loaded'>, busy: boolean): DoctorCheck {
  const { manifest } = ctx.loaded;
  const problems: string[] = [];
  if (!busy) {
    for (const { name: env } of manifest.environments) {
      const releases = new Set<string>();
      for (const fn of Object.keys(manifest.functions)) {
        const instance = instanceName(manifest, fn, env);
        const alias = ctx.store.control.getAlias(instance, aliasName(manifest, env, 'live'));
        const version = alias && ctx.store.control.getVersion(instance, alias.version);
        if (version) releases.add(version.releaseId);
      }
      if (releases.size > 1) problems.push(`${env}: live runs ${[...releases].join(' and ')} at once`);
    }
  }
  return mixedReleases(problems);
}
