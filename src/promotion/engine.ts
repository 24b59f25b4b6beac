/**
 * The promotion loop of DESIGN §2, driven from the journal. For each environment of the chain:
 * back up `live` and `smoke`, publish the release with this environment's config, point
 * `smoke` at it, run the smoke tests, pass the gate (soak of the environment before, manual
 * approval), move `live`. Any failure points `live` and `smoke` back to the backup here and in
 * every environment this promotion changed, records why, and stops.
 *
 * Every step is journalled before the next begins and can run twice without harm, so a run
 * killed at any moment is finished (or rolled back) by the next one: `PromotionRun` starts
 * from whatever step the journal says.
 */
import { aliasName, formatDuration, instanceName, resolveConfig, withEphemeral, type EnvironmentDef, type Manifest } from '../manifest/index.js';
import { StagecraftError } from '../errors.js';
import type { ChangeMeta, PromotionRecord, PromotionStatus, Release } from '../state/index.js';
import { pointAlias } from './aliases.js';
import { configChangeDetail } from './config-change.js';
import type { AppContext } from './context.js';
import { secretsOf } from './ephemeral-view.js';
import { mayHaveMovedAliases, type EnvironmentProgress, type PromotionState, type Step } from './journal.js';
import { runSmokeTests, SmokeGateways, type SmokeResult } from './smoke/index.js';

/** One function of one environment in an outcome: what was published and what `live` was before. */
export interface OutcomeFunction { function: string; sha256: string; version: number | null; published: boolean; previousLive: number | null }

export interface OutcomeEnvironment extends EnvironmentProgress { functions: OutcomeFunction[] }

export interface PromotionOutcome {
  promotion: string;
  kind: 'promote' | 'deploy';
  release: string;
  commit: string | null;
  target: string;
  status: PromotionStatus;
  environments: OutcomeEnvironment[];
  failure?: PromotionState['failure'];
  refusal?: PromotionState['refusal'];
  note?: string;
  /** Wall time of this run, and the part of it the smoke tests took. */
  timings: { totalMs: number; testsMs: number };
}

/** A failure inside a step: the promotion rolls back with this reason. */
class StepFailed extends Error {
  constructor(readonly step: Step, message: string, readonly details: string[] = []) {
    super(message);
  }
}

type Advance = 'next' | 'paused' | 'refused';

export class PromotionRun {
  private record: PromotionRecord<PromotionState>;
  /** The journal this run mutates and saves; the record read back after a save is never used in its place. */
  private readonly state: PromotionState;
  private readonly release: Release;
  private readonly manifest: Manifest;
  private readonly gateways: SmokeGateways;
  private readonly started = performance.now();
  private testsMs = 0;

  /**
   * `ensureHeld` (from `withLock`) is called before every step that changes something: it
   * throws when this process has lost the lock, and the run stops without touching anything.
   */
  constructor(private readonly ctx: AppContext, record: PromotionRecord<PromotionState>, private readonly ensureHeld: () => Promise<void> = async () => undefined) {
    this.record = record;
    this.state = record.state;
    this.release = ctx.store.releases.find(record.releaseId);
    // Ephemeral environments are copies of a chain environment added to the release's manifest.
    this.manifest = withEphemeral(this.release.manifest, ctx.store.environments.list());
    this.gateways = new SmokeGateways({ appDir: ctx.loaded.appDir, provider: ctx.provider });
  }

  get id(): string {
    return this.record.id;
  }

  /** Runs the promotion from where its journal stands to its end, a pause, or a refusal. */
  async run(): Promise<PromotionOutcome> {
    try {
      if (this.record.status === 'rolling-back') return await this.rollBack();
      if (this.record.status !== 'running') this.save('running');
      for (const [index, progress] of this.state.environments.entries()) {
        const result = await this.advance(progress, index);
        if (result !== 'next') return this.outcome();
      }
      await this.ensureHeld();
      this.finish('succeeded', 'promotion.succeeded', {});
      return this.outcome();
    } catch (error) {
      // A lost lock belongs to whoever took it over; a failing rollback stays `rolling-back` for
      // `promote --resume` with its first reason. Neither may start (another) rollback here.
      if (this.record.status === 'rolling-back' || (error instanceof StagecraftError && error.code === 'LOCK_LOST')) throw error;
      if (error instanceof StepFailed) return await this.fail(error.step, error.message, error.details);
      // A platform failure mid-way (an artifact gone, a provider error) rolls back like a failed
      // test; anything else is a bug and stays in the journal for `promote --resume`.
      if (error instanceof StagecraftError) return await this.fail(this.currentStep(), error.message, error.hint ? [error.hint] : []);
      throw error;
    } finally {
      await this.gateways.close();
    }
  }

  /** Ends an interrupted or paused promotion that a newer one replaces: rolled back when interrupted, left as it is when paused. */
  async abandon(reason: string): Promise<PromotionOutcome> {
    try {
      await this.ensureHeld();
      // Killed after its last step but before it said so: it is done, not something to undo.
      if (this.record.status === 'running' && this.state.environments.every((env) => env.step === 'live' || env.step === 'passed')) {
        this.finish('succeeded', 'promotion.succeeded', { note: 'finished before its process died' });
        return this.outcome();
      }
      if (this.record.status === 'rolling-back') return await this.rollBack();
      if (this.record.status === 'awaiting-approval') {
        this.state.note = reason;
        this.finish('superseded', 'promotion.superseded', { reason });
        return this.outcome();
      }
      const current = this.state.environments.find((env) => !['live', 'passed', 'pending'].includes(env.step));
      return await this.fail(current?.step ?? 'pending', reason, [], current?.name);
    } finally {
      await this.gateways.close();
    }
  }

  /** A `--skip-soak --reason` given when a promotion is resumed applies from now on. */
  skipSoak(reason: string | undefined): void {
    if (reason === undefined) return;
    this.state.skipSoak = reason;
    this.save(this.record.status);
  }

  /** The environments this promotion has yet to publish to, whose config must resolve before it goes on. */
  remaining(): string[] {
    return this.state.environments.filter((env) => env.step === 'pending' || env.step === 'backed-up').map((env) => env.name);
  }

  /** Records an approval of the paused environment and makes the run continue past its gate. */
  approve(by: string): void {
    const paused = this.state.environments.find((env) => env.step === 'awaiting-approval');
    if (!paused) throw new Error(`approve: ${this.id} is not awaiting approval`);
    paused.approval = { by, at: this.ctx.store.now().toISOString() };
    paused.step = 'approved';
    this.ctx.store.transaction(() => {
      this.record = this.ctx.store.promotions.save(this.id, 'running', this.state);
      this.ctx.store.ledger.append({ ...this.meta(paused.name, '', { approvedBy: by }), kind: 'promotion.approved' });
    });
  }

  private async advance(progress: EnvironmentProgress, index: number): Promise<Advance> {
    const env = progress.name;
    if (progress.step === 'pending') {
      if (this.record.kind === 'promote') {
        if ((await this.liveSince(env)) !== undefined) {
          this.ctx.report.progress(`${env}: ${this.release.id} is already live, passed`);
          return this.step(progress, 'passed');
        }
        if (index > 0 && await this.soakBlocks(this.state.environments[index - 1]?.name ?? '', progress)) return 'refused';
      }
      const backup: EnvironmentProgress['backup'] = {};
      for (const fn of this.release.functions) {
        const instance = instanceName(this.manifest, fn.function, env);
        const live = await this.ctx.provider.getAlias(instance, aliasName(this.manifest, env, 'live'));
        const smoke = await this.ctx.provider.getAlias(instance, aliasName(this.manifest, env, 'smoke'));
        backup[fn.function] = { live: live?.version ?? null, smoke: smoke?.version ?? null };
      }
      progress.backup = backup;
      this.step(progress, 'backed-up');
    }
    if (progress.step === 'backed-up') {
      await this.ensureHeld();
      const { published, created } = await this.publish(env);
      progress.published = published;
      progress.created = created;
      this.step(progress, 'published');
    }
    if (progress.step === 'published') {
      await this.ensureHeld();
      await this.moveAll(env, 'smoke', progress.published ?? {});
      this.step(progress, 'smoke');
    }
    if (progress.step === 'smoke') {
      progress.tests = await this.test(env);
      this.step(progress, 'tested');
    }
    if (progress.step === 'tested') {
      if (this.record.kind === 'promote' && this.gateOf(env).approval === 'manual' && !progress.approval) {
        progress.step = 'awaiting-approval';
        this.ctx.store.transaction(() => {
          this.record = this.ctx.store.promotions.save(this.id, 'awaiting-approval', this.state);
          this.ctx.store.ledger.append({ ...this.meta(env, ''), kind: 'promotion.paused' });
        });
        this.ctx.report.warn(`${env} needs a manual approval: ${this.release.id} is on smoke there and passed its tests; \`stagecraft approve ${env}\` moves live and continues`);
        return 'paused';
      }
      this.step(progress, 'ready');
    }
    if (progress.step === 'awaiting-approval') return 'paused';
    if (progress.step === 'approved') {
      // The results the approver saw may be hours old: test again right before live moves.
      progress.tests = await this.test(env);
      this.step(progress, 'ready');
    }
    if (progress.step === 'ready') {
      const policy = this.gateOf(env).deployment;
      if (policy.type !== 'allAtOnce') this.ctx.report.warn(`${env}: deployment ${policy.type} is not applied by this version of Stagecraft; live moves at once`);
      await this.ensureHeld();
      await this.moveAll(env, 'live', progress.published ?? {});
      this.step(progress, 'live');
      this.ctx.report.progress(`${env}: ${this.release.id} is live`);
    }
    return 'next';
  }

  private async publish(env: string): Promise<{ published: Record<string, number>; created: string[] }> {
    const plans = this.release.functions.map((fn) => {
      const def = this.manifest.functions[fn.function];
      if (!def) throw new StagecraftError('STATE_FAILED', `release ${this.release.id} lists ${fn.function} but its manifest does not`);
      return { fn, def, instance: instanceName(this.manifest, fn.function, env) };
    });
    await this.ctx.provider.ensureStack({
      app: this.manifest.app, environment: env, strategy: this.manifest.strategy, resources: this.manifest.resources,
      functions: plans.map((plan) => ({ function: plan.fn.function, instance: plan.instance })),
      definitions: this.manifest.functions,
    }, this.meta(env, ''));
    const published: Record<string, number> = {};
    const fresh: string[] = [];
    for (const { fn, def, instance } of plans) {
      const config = resolveConfig(this.manifest, env, fn.function, this.release.id, { env: (name) => this.ctx.env[name], secret: this.ctx.secrets.forEnvironment(secretsOf(this.ctx, env)) });
      const { version, created } = await this.ctx.provider.publishVersion({
        instance, environment: env, function: fn.function, releaseId: this.release.id, sha256: fn.sha256,
        runtime: fn.runtime, handler: fn.handler, memoryMb: def.memory, timeoutSec: def.timeout, config: config.stored, configDigest: config.digest,
      }, this.meta(env, fn.function, await configChangeDetail(this.ctx.provider, instance, fn.sha256, config.stored)));
      published[fn.function] = version.version;
      if (created) fresh.push(fn.function);
    }
    const versions = Object.entries(published).map(([fn, version]) => `${fn} v${version}`);
    this.ctx.report.progress(`${env}: published ${versions.length > 6 ? `${versions.length} versions` : versions.join(', ')} (${fresh.length} new)`);
    return { published, created: fresh };
  }

  private async moveAll(env: string, role: 'live' | 'smoke', versions: Record<string, number>): Promise<void> {
    for (const fn of this.release.functions) {
      const version = versions[fn.function];
      if (version === undefined) continue;
      await pointAlias(this.ctx, instanceName(this.manifest, fn.function, env), aliasName(this.manifest, env, role), version, this.meta(env, fn.function, { role }));
    }
  }

  private async test(env: string): Promise<SmokeResult[]> {
    if (this.manifest.smoke.length === 0) return [];
    this.ctx.report.progress(`${env}: running ${this.manifest.smoke.length} smoke test(s) against smoke`);
    const started = performance.now();
    const results = await runSmokeTests({ provider: this.ctx.provider, gateways: this.gateways, appDir: this.ctx.loaded.appDir }, this.manifest, env);
    this.testsMs += performance.now() - started;
    this.ctx.store.transaction(() => {
      for (const result of results) {
        this.ctx.store.ledger.append({ ...this.meta(env, '', { test: result.name, type: result.kind, durationMs: result.durationMs, ...(result.failure ? { failure: result.failure } : {}) }), kind: result.ok ? 'smoke.passed' : 'smoke.failed' });
      }
    });
    for (const result of results) this.ctx.report.progress(`  ${result.ok ? 'pass' : 'FAIL'} ${result.name} (${result.durationMs} ms)${result.failure ? `: ${result.failure[0] ?? ''}` : ''}`);
    const failed = results.filter((result) => !result.ok);
    if (failed.length > 0) {
      const progress = this.state.environments.find((candidate) => candidate.name === env);
      if (progress) progress.tests = results;
      throw new StepFailed('smoke', `smoke test${failed.length > 1 ? 's' : ''} ${failed.map((result) => result.name).join(', ')} failed in ${env}`, failed.flatMap((result) => [`${result.name}:`, ...(result.failure ?? []).map((line) => `  ${line}`)]));
    }
    return results;
  }

  /** True (and the promotion refused) when `previous` has a soak time its release has not yet served. */
  private async soakBlocks(previous: string, progress: EnvironmentProgress): Promise<boolean> {
    const soak = this.gateOf(previous).soak;
    if (soak === undefined) return false;
    const since = await this.liveSince(previous);
    const now = this.ctx.store.now().getTime();
    const eligible = since === undefined ? undefined : since + soak;
    if (eligible !== undefined && eligible <= now) return false;
    const remainingMs = eligible === undefined ? soak : eligible - now;
    const eligibleAt = new Date(now + remainingMs).toISOString();
    if (this.state.skipSoak !== undefined) {
      progress.soakSkipped = { reason: this.state.skipSoak, by: this.ctx.actor };
      this.ctx.store.transaction(() => this.ctx.store.ledger.append({ ...this.meta(previous, '', { soak: formatDuration(soak), remainingMs, reason: this.state.skipSoak }), kind: 'soak.skipped' }));
      this.ctx.report.warn(`${previous}: soak of ${formatDuration(soak)} skipped (${formatDuration(remainingMs)} left): ${this.state.skipSoak}`);
      return false;
    }
    this.state.refusal = {
      environment: previous, remainingMs, eligibleAt,
      reason: `${this.release.id} must be live in ${previous} for ${formatDuration(soak)} before it goes further: ${formatDuration(remainingMs)} left, eligible at ${eligibleAt}`,
    };
    this.finish('refused', 'promotion.refused', { reason: this.state.refusal.reason });
    this.ctx.report.warn(`${this.state.refusal.reason} (or pass --skip-soak --reason "…")`);
    return true;
  }

  /** When this release became live in `env` (every function's `live` on one of its versions), in ms; undefined if it is not. */
  private async liveSince(env: string): Promise<number | undefined> {
    let since = 0;
    for (const fn of this.release.functions) {
      const instance = instanceName(this.manifest, fn.function, env);
      const alias = await this.ctx.provider.getAlias(instance, aliasName(this.manifest, env, 'live'));
      if (!alias || alias.extra) return undefined;
      const version = (await this.ctx.provider.listVersions(instance)).find((candidate) => candidate.version === alias.version);
      if (version?.releaseId !== this.release.id) return undefined;
      since = Math.max(since, Date.parse(alias.updatedAt));
    }
    return since;
  }

  /** Points `live` and `smoke` back to the backup in every environment this promotion changed, newest first. */
  private async fail(step: Step, reason: string, details: string[], where?: string): Promise<PromotionOutcome> {
    const environment = where ?? this.state.environments.find((env) => !['live', 'passed', 'pending', 'restored'].includes(env.step))?.name ?? this.record.target;
    this.state.failure = { environment, step, reason, ...(details.length > 0 ? { details } : {}) };
    this.save('rolling-back');
    this.ctx.report.warn(`${reason}; rolling back`);
    return this.rollBack();
  }

  private async rollBack(): Promise<PromotionOutcome> {
    for (const progress of [...this.state.environments].reverse()) {
      // From `backed-up` on, a kill may have moved an alias before the journal said so: put back
      // everything that has a backup (moving an alias to where it is changes nothing).
      if (!mayHaveMovedAliases(progress)) continue;
      await this.ensureHeld();
      const env = progress.name;
      for (const fn of this.release.functions) {
        const backup = progress.backup?.[fn.function];
        if (!backup) continue;
        const instance = instanceName(this.manifest, fn.function, env);
        const why = { reason: this.state.failure?.reason ?? 'rolled back' };
        await pointAlias(this.ctx, instance, aliasName(this.manifest, env, 'live'), backup.live, this.meta(env, fn.function, { role: 'live', rollback: true, ...why }));
        await pointAlias(this.ctx, instance, aliasName(this.manifest, env, 'smoke'), backup.smoke, this.meta(env, fn.function, { role: 'smoke', rollback: true, ...why }));
      }
      this.step(progress, 'restored');
      this.ctx.report.progress(`${env}: live and smoke are back where they were`);
    }
    // In the order they were put back: the failed environment first, then down the chain.
    const restoredAll = this.state.environments.filter((env) => env.step === 'restored').map((env) => env.name).reverse();
    this.finish('failed', 'promotion.failed', { reason: this.state.failure?.reason, step: this.state.failure?.step, failedIn: this.state.failure?.environment, rolledBack: restoredAll });
    return this.outcome();
  }

  private currentStep(): Step {
    return this.state.environments.find((env) => !['live', 'passed', 'pending', 'restored'].includes(env.step))?.step ?? 'pending';
  }

  private gateOf(env: string): EnvironmentDef {
    const def = this.ctx.loaded.manifest.environments.find((candidate) => candidate.name === env) ?? this.manifest.environments.find((candidate) => candidate.name === env);
    if (!def) throw new StagecraftError('ENVIRONMENT_UNKNOWN', `no environment "${env}" in ${this.manifest.app}`);
    return def;
  }

  private step(progress: EnvironmentProgress, step: Step): 'next' {
    progress.step = step;
    this.save(this.record.status === 'rolling-back' ? 'rolling-back' : 'running');
    return 'next';
  }

  private save(status: PromotionStatus): void {
    this.record = this.ctx.store.transaction(() => this.ctx.store.promotions.save(this.id, status, this.state));
  }

  private finish(status: PromotionStatus, kind: string, detail: Record<string, unknown>): void {
    this.ctx.store.transaction(() => {
      this.record = this.ctx.store.promotions.save(this.id, status, this.state);
      this.ctx.store.ledger.append({ ...this.meta(this.state.failure?.environment ?? this.record.target, '', detail), kind });
    });
  }

  private meta(environment: string, fn: string, detail: Record<string, unknown> = {}): ChangeMeta {
    return {
      operation: this.record.kind, actor: this.ctx.actor, environment, ...(fn ? { function: fn } : {}),
      releaseId: this.release.id, commit: this.release.commit, detail: { promotion: this.id, ...detail },
    };
  }

  private outcome(): PromotionOutcome {
    const { state } = this;
    return {
      promotion: this.id, kind: this.record.kind, release: this.release.id, commit: this.release.commit, target: this.record.target, status: this.record.status,
      environments: state.environments.map((env) => ({
        ...env,
        functions: this.release.functions.map((fn) => ({
          function: fn.function, sha256: fn.sha256, version: env.published?.[fn.function] ?? null,
          published: env.created?.includes(fn.function) ?? false, previousLive: env.backup?.[fn.function]?.live ?? null,
        })),
      })),
      ...(state.failure ? { failure: state.failure } : {}),
      ...(state.refusal ? { refusal: state.refusal } : {}),
      ...(state.note ? { note: state.note } : {}),
      timings: { totalMs: Math.round(performance.now() - this.started), testsMs: Math.round(this.testsMs) },
    };
  }
}
