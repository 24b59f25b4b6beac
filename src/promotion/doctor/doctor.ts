/**
 * `stagecraft doctor`: checks the invariants of DESIGN §5 against the state as it is, and says
 * what is wrong and what to do. A check is `fail` when an invariant does not hold, `warn` when
 * something needs attention without breaking one (a stale lock the next command takes over).
 *
 * Versions, aliases and the ledger are checked where they live: in the SQLite state with the
 * local provider (state-checks.ts), on the platform itself where it holds them — on aws,
 * Lambda and CloudFormation (platform-checks.ts). The rest is this machine's state either way.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { tamperedTrees } from '../../release/index.js';
import { secretForms } from '../../runtime/index.js';
import type { LockHolder } from '../../state/index.js';
import type { AppContext } from '../context.js';
import type { PromotionState } from '../journal.js';
import { deadHolder, STALE_AFTER_MS } from '../lock.js';
import { platformChecks } from './platform-checks.js';
import { check, type DoctorCheck, type DoctorReport } from './report.js';
import { stateChecks } from './state-checks.js';

export type DoctorContext = Pick<
  AppContext,
  'store' | 'artifacts' | 'loaded' | 'secrets' | 'provider' | 'lock' | 'sharedReleases' | 'sharedLedger'
>;

export async function doctor(ctx: DoctorContext): Promise<DoctorReport> {
  const holder = await ctx.lock.holder(ctx.loaded.manifest.app);
  const dead = holder && deadHolder(holder, ctx.store.now(), { staleAfterMs: STALE_AFTER_MS });
  const busy = ctx.store.promotions.unfinished().some((record) => record.status !== 'awaiting-approval');
  // A provider with a platform to audit holds its own control plane; without one (local) the state is the whole truth.
  const plane = ctx.provider.audit === undefined ? stateChecks(ctx, busy) : await platformChecks(ctx, busy);
  const checks = [
    await artifacts(ctx),
    codeTrees(ctx),
    plane.versions,
    plane.aliases,
    plane.ledger,
    ...plane.platform,
    immutability(ctx),
    promotions(ctx, holder !== undefined && !dead),
    lock(holder, dead),
    plane.environments,
    secrets(ctx),
  ];
  return { ok: checks.every((each) => each.status !== 'fail'), checks };
}

/**
 * Invariant 1: every artifact a release names exists and still hashes to its name — in the local
 * store, or, for a release another machine built, in the provider's own store (aws: S3).
 */
async function artifacts(ctx: Pick<AppContext, 'store' | 'artifacts' | 'provider'>): Promise<DoctorCheck> {
  const problems: string[] = [];
  const seen = new Set<string>();
  let remote = 0;
  for (const release of ctx.store.releases.list()) {
    for (const fn of release.functions) {
      if (seen.has(fn.sha256)) continue;
      seen.add(fn.sha256);
      if (!ctx.artifacts.has(fn.sha256) && (await ctx.provider.hasArtifact?.(fn.sha256))) {
        remote++;
        continue;
      }
      try {
        ctx.artifacts.read(fn.sha256);
      } catch (error) {
        problems.push(`${release.id} ${fn.function}: ${(error as Error).message}`);
      }
    }
  }
  const where = remote === 0 ? '' : ` (${remote} of them only on the platform, as another machine built them)`;
  return check(
    'artifacts',
    problems,
    `${seen.size} artifact(s) intact${where}`,
    'artifacts are missing or changed: rebuild their releases with `stagecraft build`',
  );
}

/** Invariant 1 for what runs locally: every unpacked tree still matches the digest taken when it was unpacked. */
function codeTrees(ctx: Pick<AppContext, 'artifacts'>): DoctorCheck {
  const problems = tamperedTrees(ctx.artifacts).map((tree) => `${tree.dir}: ${tree.problem}`);
  return check(
    'code',
    problems,
    'unpacked code matches its artifacts',
    'unpacked code differs from its artifact: the next start unpacks it again; never edit files under .stagecraft/',
  );
}

function immutability(ctx: Pick<AppContext, 'store'>): DoctorCheck {
  const missing = ctx.store.audit.missingTriggers().map((name) => `trigger ${name} is missing`);
  return check(
    'immutability',
    missing,
    'artifacts, versions and the ledger are guarded against change',
    'guards against changing history are missing',
  );
}

/** A promotion left `running` or `rolling-back` by a process that is gone must be settled. */
function promotions(ctx: Pick<AppContext, 'store'>, working: boolean): DoctorCheck {
  const open = ctx.store.promotions.unfinished<PromotionState>();
  const problems = open
    .filter((record) => record.status !== 'awaiting-approval' && !working)
    .map(
      (record) =>
        `${record.id} (${record.kind} of ${record.releaseId} to ${record.target}) was interrupted while ${record.status}: run \`stagecraft promote --resume\``,
    );
  const paused = open.filter((record) => record.status === 'awaiting-approval');
  if (paused.length > 1)
    problems.push(
      `${paused.length} promotions wait for an approval at once: ${paused.map((record) => record.id).join(', ')}`,
    );
  return check(
    'promotions',
    problems,
    working ? 'a promotion is running now' : 'no promotion was left half-done',
    'a promotion was interrupted',
  );
}

/** Invariant 5, as the lock's own store has it (SQLite, or the shared DynamoDB table). */
function lock(holder: LockHolder | undefined, dead: 'gone' | 'silent' | undefined): DoctorCheck {
  if (!holder) return { name: 'lock', status: 'ok', message: 'free' };
  const who = `\`${holder.operation}\` (pid ${holder.pid}${holder.host === hostname() ? '' : ` on ${holder.host}`}`;
  if (!dead) return { name: 'lock', status: 'ok', message: `held by ${who})` };
  const why =
    dead === 'gone'
      ? 'whose process is gone'
      : `whose process is gone or hung (no heartbeat since ${holder.heartbeatAt})`;
  return {
    name: 'lock',
    status: 'warn',
    message: `held by ${who}, since ${holder.since}), ${why}; the next command takes it over`,
  };
}

/** Invariant 7: no secret value in clear in the ledger, version configs, promotion journals or captured logs. */
function secrets(ctx: Pick<AppContext, 'store' | 'loaded' | 'secrets'>): DoctorCheck {
  let values: string[] | undefined;
  try {
    values = ctx.secrets.allValues();
  } catch (error) {
    return {
      name: 'secrets',
      status: 'warn',
      message: `the stored secrets could not be opened, so they were not looked for in clear: ${(error as Error).message}`,
    };
  }
  if (values === undefined)
    return {
      name: 'secrets',
      status: 'warn',
      message: 'secrets are stored but no key is at hand, so they were not looked for in clear',
    };
  // Looked for in every form the runtime masks (each line of a multi-line value too); "secret #n"
  // names it without showing it.
  const forms = values.map(secretForms);
  const places = forms.map((each) => new Set(each.flatMap((form) => ctx.store.audit.placesContaining(form))));
  for (const [file, text] of logTexts(join(ctx.loaded.appDir, '.stagecraft', 'logs'))) {
    for (const [index, each] of forms.entries())
      if (each.some((form) => text.includes(form))) places[index]?.add(`log ${file}`);
  }
  const problems = places.flatMap((found, index) =>
    [...found].map((place) => `stored secret #${index + 1} appears in clear in ${place}`),
  );
  return check(
    'secrets',
    problems,
    `${values.length} secret value(s) appear nowhere in clear`,
    'secret values are written in clear',
  );
}

/**
 * Every instance's log file and the older one the sink moved aside when the file grew full, one in
 * memory at a time (each instance keeps up to 128 MiB). A file moved aside meanwhile is skipped.
 */
function* logTexts(dir: string): Generator<[string, string]> {
  if (!existsSync(dir)) return;
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.log') && !file.endsWith('.log.1')) continue;
    let text: string;
    try {
      text = readFileSync(join(dir, file), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    yield [file, text];
  }
}
