/**
 * `stagecraft doctor`: checks the invariants of DESIGN §5 against the state as it is, and says
 * what is wrong and what to do. A check is `fail` when an invariant does not hold, `warn` when
 * something needs attention without breaking one (a stale lock the next command takes over).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aliasName, instanceName } from '../manifest/index.js';
import type { AppContext } from './context.js';
import { processIsAlive } from './lock.js';
import type { PromotionState } from './journal.js';

export interface DoctorCheck { name: string; status: 'ok' | 'warn' | 'fail'; message: string; details?: string[] }
export interface DoctorReport { ok: boolean; checks: DoctorCheck[] }

const MAX_DETAILS = 20;

export function doctor(ctx: Pick<AppContext, 'store' | 'artifacts' | 'loaded' | 'secrets'>): DoctorReport {
  const checks = [artifacts(ctx), versions(ctx), aliases(ctx), ledger(ctx), immutability(ctx), promotions(ctx), lock(ctx), environments(ctx), secrets(ctx)];
  return { ok: checks.every((check) => check.status !== 'fail'), checks };
}

function check(name: string, problems: string[], ok: string, failed: string, status: 'warn' | 'fail' = 'fail'): DoctorCheck {
  if (problems.length === 0) return { name, status: 'ok', message: ok };
  return { name, status, message: failed, details: problems.slice(0, MAX_DETAILS).concat(problems.length > MAX_DETAILS ? [`… and ${problems.length - MAX_DETAILS} more`] : []) };
}

/** Invariant 1: every artifact a release names exists and still hashes to its name. */
function artifacts(ctx: Pick<AppContext, 'store' | 'artifacts'>): DoctorCheck {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const release of ctx.store.releases.list()) {
    for (const fn of release.functions) {
      if (seen.has(fn.sha256)) continue;
      seen.add(fn.sha256);
      try {
        ctx.artifacts.read(fn.sha256);
      } catch (error) {
        problems.push(`${release.id} ${fn.function}: ${(error as Error).message}`);
      }
    }
  }
  return check('artifacts', problems, `${seen.size} artifact(s) intact`, 'artifacts are missing or changed: rebuild their releases with `stagecraft build`');
}

/** Invariant 2: versions name known artifacts and releases. */
function versions(ctx: Pick<AppContext, 'store'>): DoctorCheck {
  const problems = ctx.store.audit.orphanVersions().map((row) => `${row.instance} v${row.version}: artifact ${row.sha256.slice(0, 12)} or its release is unknown`);
  return check('versions', problems, 'every version names a known artifact and release', 'versions point at unknown artifacts');
}

/** Invariant 3: aliases point at existing versions; weights within (0, 1). */
function aliases(ctx: Pick<AppContext, 'store'>): DoctorCheck {
  const problems = ctx.store.audit.badAliases().map((row) => `${row.instance} ${row.name} → v${row.version}: ${row.problem}`);
  return check('aliases', problems, 'every alias points at an existing version', 'aliases point at missing versions');
}

/** Invariant 4: every alias is where its last ledger record says. */
function ledger(ctx: Pick<AppContext, 'store'>): DoctorCheck {
  const problems = ctx.store.audit.aliasLedgerMismatches().map((row) =>
    `${row.instance} ${row.alias}: is ${row.actual ? `v${row.actual.version} (revision ${row.actual.revision})` : 'absent'}, the ledger says ${row.recorded ? (row.recorded.version === null ? 'removed' : `v${row.recorded.version} (revision ${row.recorded.revision ?? '?'}, #${row.recorded.seq})`) : 'nothing'}`);
  return check('ledger', problems, 'every alias change has its ledger record', 'aliases changed without a ledger record');
}

function immutability(ctx: Pick<AppContext, 'store'>): DoctorCheck {
  const missing = ctx.store.audit.missingTriggers().map((name) => `trigger ${name} is missing`);
  return check('immutability', missing, 'artifacts, versions and the ledger are guarded against change', 'guards against changing history are missing');
}

/** A promotion left `running` or `rolling-back` by a process that is gone must be settled. */
function promotions(ctx: Pick<AppContext, 'store' | 'loaded'>): DoctorCheck {
  const holder = ctx.store.locks.get(ctx.loaded.manifest.app);
  const working = holder !== undefined && processIsAlive(holder.pid);
  const open = ctx.store.promotions.unfinished<PromotionState>();
  const problems = open.filter((record) => record.status !== 'awaiting-approval' && !working)
    .map((record) => `${record.id} (${record.kind} of ${record.releaseId} to ${record.target}) was interrupted while ${record.status}: run \`stagecraft promote --resume\``);
  const paused = open.filter((record) => record.status === 'awaiting-approval');
  if (paused.length > 1) problems.push(`${paused.length} promotions wait for an approval at once: ${paused.map((record) => record.id).join(', ')}`);
  return check('promotions', problems, working ? 'a promotion is running now' : 'no promotion was left half-done', 'a promotion was interrupted');
}

function lock(ctx: Pick<AppContext, 'store' | 'loaded'>): DoctorCheck {
  const holder = ctx.store.locks.get(ctx.loaded.manifest.app);
  if (!holder || processIsAlive(holder.pid)) return { name: 'lock', status: 'ok', message: holder ? `held by \`${holder.operation}\` (pid ${holder.pid})` : 'free' };
  return { name: 'lock', status: 'warn', message: `held by \`${holder.operation}\` (pid ${holder.pid}, since ${holder.since}), whose process is gone; the next command takes it over` };
}

/** With no promotion under way, each environment runs one release across its functions. */
function environments(ctx: Pick<AppContext, 'store' | 'loaded'>): DoctorCheck {
  const { manifest } = ctx.loaded;
  const busy = ctx.store.promotions.unfinished().some((record) => record.status !== 'awaiting-approval');
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
  return check('environments', problems, 'each environment runs one release', 'environments run a mix of releases (a partial rollback?)', 'warn');
}

/** Invariant 7: no secret value in clear in the ledger, version configs, promotion journals or captured logs. */
function secrets(ctx: Pick<AppContext, 'store' | 'loaded' | 'secrets'>): DoctorCheck {
  let values: string[] | undefined;
  try {
    values = ctx.secrets.allValues();
  } catch (error) {
    return { name: 'secrets', status: 'warn', message: `the stored secrets could not be opened, so they were not looked for in clear: ${(error as Error).message}` };
  }
  if (values === undefined) return { name: 'secrets', status: 'warn', message: 'secrets are stored but no key is at hand, so they were not looked for in clear' };
  const problems: string[] = [];
  const logs = logTexts(join(ctx.loaded.appDir, '.stagecraft', 'logs'));
  for (const [index, value] of values.entries()) {
    // Looked for as written and as JSON escapes it; "secret #n" names it without showing it.
    const forms = [...new Set([value, JSON.stringify(value).slice(1, -1)])];
    const places = new Set(forms.flatMap((form) => ctx.store.audit.placesContaining(form)));
    for (const [file, text] of logs) if (forms.some((form) => text.includes(form))) places.add(`log ${file}`);
    for (const place of places) problems.push(`stored secret #${index + 1} appears in clear in ${place}`);
  }
  return check('secrets', problems, `${values.length} secret value(s) appear nowhere in clear`, 'secret values are written in clear');
}

function logTexts(dir: string): [string, string][] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((file) => file.endsWith('.log')).map((file) => [file, readFileSync(join(dir, file), 'utf8')]);
}
