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
import { aliasName, instanceName, withEphemeral } from '../manifest/index.js';
import { StagecraftError } from '../errors.js';
import type { PromotionRecord, PromotionStatus } from '../state/index.js';
import type { AppContext } from './context.js';
import { approvalPauses, liveSince, soakBlocks, trafficGate } from './gates.js';
import type { Breach, EnvironmentProgress, PromotionState, Step } from './journal.js';
import { RunJournal } from './run-journal.js';
import { moveAll, StepFailed, type RunScope } from './run-scope.js';
import { runSmokeTests, SmokeGateways, type SmokeResult } from './smoke/index.js';
import { currentStep, fail, rollBack } from './undo.js';
import { publishFunction } from './publish.js';
import { eachConcurrently } from './concurrent.js';

/** One function of one environment in an outcome: what was published and what `live` was before. */
export interface OutcomeFunction {
  function: string;
  sha256: string;
  version: number | null;
  published: boolean;
  previousLive: number | null;
}

export interface OutcomeEnvironment extends EnvironmentProgress {
  functions: OutcomeFunction[];
}

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

type Advance = 'next' | 'paused' | 'refused';

export class PromotionRun {
  private readonly journal: RunJournal;
  private readonly scope: RunScope;
  private readonly gateways: SmokeGateways;
  private readonly started = performance.now();
  private testsMs = 0;

  /**
   * `ensureHeld` (from `withLock`) is called before every step that changes something: it
   * throws when this process has lost the lock, and the run stops without touching anything.
   */
  constructor(
    private readonly ctx: AppContext,
    record: PromotionRecord<PromotionState>,
    ensureHeld: () => Promise<void> = async () => undefined,
  ) {
    const release = ctx.store.releases.find(record.releaseId);
    this.journal = new RunJournal(ctx, record, release);
    // Ephemeral environments are copies of a chain environment added to the release's manifest.
    this.scope = {
      ctx,
      journal: this.journal,
      release,
      manifest: withEphemeral(release.manifest, ctx.store.environments.list()),
      ensureHeld,
    };
    this.gateways = new SmokeGateways({ provider: ctx.provider });
  }

  get id(): string {
    return this.journal.id;
  }

  private get state(): PromotionState {
    return this.journal.state;
  }

  private get record(): PromotionRecord<PromotionState> {
    return this.journal.record;
  }

  /** Runs the promotion from where its journal stands to its end, a pause, or a refusal. */
  async run(): Promise<PromotionOutcome> {
    try {
      if (this.record.status === 'rolling-back') return await this.rollBack();
      if (this.record.status !== 'running') this.journal.save('running');
      for (const [index, progress] of this.state.environments.entries()) {
        const result = await this.advance(progress, index);
        if (result !== 'next') return this.outcome();
      }
      await this.scope.ensureHeld();
      this.journal.finish('succeeded', 'promotion.succeeded', {});
      return this.outcome();
    } catch (error) {
      // A lost lock belongs to whoever took it over; a failing rollback stays `rolling-back` for
      // `promote --resume` with its first reason. Neither may start (another) rollback here.
      if (this.record.status === 'rolling-back' || (error instanceof StagecraftError && error.code === 'LOCK_LOST'))
        throw error;
      if (error instanceof StepFailed)
        return await this.fail(error.step, error.message, error.details, undefined, error.breach);
      // A platform failure mid-way (an artifact gone, a provider error) rolls back like a failed
      // test; anything else is a bug and stays in the journal for `promote --resume`.
      if (error instanceof StagecraftError)
        return await this.fail(currentStep(this.scope), error.message, error.hint ? [error.hint] : []);
      throw error;
    } finally {
      await this.gateways.close();
    }
  }

  /** Ends an interrupted or paused promotion that a newer one replaces: rolled back when interrupted, left as it is when paused. */
  async abandon(reason: string): Promise<PromotionOutcome> {
    try {
      await this.scope.ensureHeld();
      // Killed after its last step but before it said so: it is done, not something to undo.
      if (
        this.record.status === 'running' &&
        this.state.environments.every((env) => env.step === 'live' || env.step === 'passed')
      ) {
        this.journal.finish('succeeded', 'promotion.succeeded', { note: 'finished before its process died' });
        return this.outcome();
      }
      if (this.record.status === 'rolling-back') return await this.rollBack();
      if (this.record.status === 'awaiting-approval') {
        this.state.note = reason;
        this.journal.finish('superseded', 'promotion.superseded', { reason });
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
    this.journal.save(this.record.status);
  }

  /** The environments this promotion has yet to publish to, whose config must resolve before it goes on. */
  remaining(): string[] {
    return this.state.environments
      .filter((env) => env.step === 'pending' || env.step === 'backed-up')
      .map((env) => env.name);
  }

  /** Records an approval of the paused environment and makes the run continue past its gate. */
  approve(by: string): void {
    const paused = this.state.environments.find((env) => env.step === 'awaiting-approval');
    if (!paused) throw new Error(`approve: ${this.id} is not awaiting approval`);
    paused.approval = { by, at: this.ctx.store.now().toISOString() };
    paused.step = 'approved';
    this.journal.recordAs('running', paused.name, 'promotion.approved', { approvedBy: by });
  }

  private async advance(progress: EnvironmentProgress, index: number): Promise<Advance> {
    const env = progress.name;
    const { journal, scope } = this;
    this.stopIfInterrupted(progress);
    if (progress.step === 'pending') {
      if (this.record.kind === 'promote') {
        if ((await liveSince(scope, env)) !== undefined) {
          this.ctx.report.progress(`${env}: ${scope.release.id} is already live, passed`);
          return journal.step(progress, 'passed');
        }
        if (index > 0 && (await soakBlocks(scope, this.state.environments[index - 1]?.name ?? '', progress)))
          return 'refused';
      }
      const backup: EnvironmentProgress['backup'] = {};
      await eachConcurrently(scope.release.functions, async (fn) => {
        const instance = instanceName(scope.manifest, fn.function, env);
        const [live, smoke] = await Promise.all(
          (['live', 'smoke'] as const).map((role) =>
            this.ctx.provider.getAlias(instance, aliasName(scope.manifest, env, role)),
          ),
        );
        backup[fn.function] = { live: live?.version ?? null, smoke: smoke?.version ?? null };
      });
      // In the release's order, whatever order the reads came back in.
      progress.backup = Object.fromEntries(
        scope.release.functions.flatMap((fn) => {
          const saved = backup[fn.function];
          return saved ? [[fn.function, saved]] : [];
        }),
      );
      journal.step(progress, 'backed-up');
    }
    if (progress.step === 'backed-up') {
      await scope.ensureHeld();
      const { published, created } = await this.publish(env);
      progress.published = published;
      progress.created = created;
      journal.step(progress, 'published');
    }
    if (progress.step === 'published') {
      await scope.ensureHeld();
      await moveAll(scope, env, 'smoke', progress.published ?? {});
      journal.step(progress, 'smoke');
    }
    if (progress.step === 'smoke') {
      progress.tests = await this.test(env);
      journal.step(progress, 'tested');
    }
    if (progress.step === 'tested') {
      if (approvalPauses(scope, progress)) return 'paused';
      journal.step(progress, 'ready');
    }
    if (progress.step === 'awaiting-approval') return 'paused';
    if (progress.step === 'approved') {
      // The results the approver saw may be hours old: test again right before live moves.
      progress.tests = await this.test(env);
      journal.step(progress, 'ready');
    }
    this.stopIfInterrupted(progress);
    if (progress.step === 'ready' || progress.step === 'shifting') {
      await trafficGate(scope, progress);
      journal.step(progress, 'live');
      this.ctx.report.progress(`${env}: ${scope.release.id} is live`);
    }
    return 'next';
  }

  /** Ctrl-C: the promotion stops at the next step and rolls back (a shift checks it while it waits). */
  private stopIfInterrupted(progress: EnvironmentProgress): void {
    if (this.ctx.interrupt?.aborted && !['live', 'passed', 'awaiting-approval'].includes(progress.step)) {
      throw new StepFailed(progress.step, `${progress.name}: interrupted (Ctrl-C)`);
    }
  }

  private async publish(env: string): Promise<{ published: Record<string, number>; created: string[] }> {
    const { release, manifest, journal } = this.scope;
    const plans = release.functions.map((fn) => {
      const def = manifest.functions[fn.function];
      if (!def)
        throw new StagecraftError(
          'STATE_FAILED',
          `release ${release.id} lists ${fn.function} but its manifest does not`,
        );
      return { fn, def, instance: instanceName(manifest, fn.function, env) };
    });
    await this.ctx.provider.ensureStack(
      {
        app: manifest.app,
        environment: env,
        strategy: manifest.strategy,
        resources: manifest.resources,
        functions: plans.map((plan) => ({ function: plan.fn.function, instance: plan.instance })),
        definitions: manifest.functions,
      },
      journal.meta(env, ''),
    );
    const results = await eachConcurrently(plans, ({ fn, def, instance }) =>
      publishFunction(this.ctx, { manifest, release, env, fn, def, instance }, (detail) =>
        journal.meta(env, fn.function, detail),
      ),
    );
    const published: Record<string, number> = {};
    const fresh: string[] = [];
    for (const [index, { fn }] of plans.entries()) {
      const { version, created } = results[index] ?? {};
      if (!version) continue;
      published[fn.function] = version.version;
      if (created) fresh.push(fn.function);
    }
    const versions = Object.entries(published).map(([fn, version]) => `${fn} v${version}`);
    this.ctx.report.progress(
      `${env}: published ${versions.length > 6 ? `${versions.length} versions` : versions.join(', ')} (${fresh.length} new)`,
    );
    return { published, created: fresh };
  }

  private async test(env: string): Promise<SmokeResult[]> {
    const { manifest } = this.scope;
    if (manifest.smoke.length === 0) return [];
    this.ctx.report.progress(`${env}: running ${manifest.smoke.length} smoke test(s) against smoke`);
    const started = performance.now();
    const results = await runSmokeTests(
      { provider: this.ctx.provider, gateways: this.gateways, appDir: this.ctx.loaded.appDir },
      manifest,
      env,
    );
    this.testsMs += performance.now() - started;
    this.ctx.store.transaction(() => {
      for (const result of results) {
        this.ctx.store.ledger.append({
          ...this.journal.meta(env, '', {
            test: result.name,
            type: result.kind,
            durationMs: result.durationMs,
            ...(result.failure ? { failure: result.failure } : {}),
          }),
          kind: result.ok ? 'smoke.passed' : 'smoke.failed',
        });
      }
    });
    for (const result of results)
      this.ctx.report.progress(
        `  ${result.ok ? 'pass' : 'FAIL'} ${result.name} (${result.durationMs} ms)${result.failure ? `: ${result.failure[0] ?? ''}` : ''}`,
      );
    const failed = results.filter((result) => !result.ok);
    if (failed.length > 0) {
      const progress = this.state.environments.find((candidate) => candidate.name === env);
      if (progress) progress.tests = results;
      throw new StepFailed(
        'smoke',
        `smoke test${failed.length > 1 ? 's' : ''} ${failed.map((result) => result.name).join(', ')} failed in ${env}`,
        failed.flatMap((result) => [`${result.name}:`, ...(result.failure ?? []).map((line) => `  ${line}`)]),
      );
    }
    return results;
  }

  private async fail(
    step: Step,
    reason: string,
    details: string[],
    where?: string,
    breach?: Breach,
  ): Promise<PromotionOutcome> {
    await fail(this.scope, step, reason, details, where, breach);
    return this.outcome();
  }

  private async rollBack(): Promise<PromotionOutcome> {
    await rollBack(this.scope);
    return this.outcome();
  }

  private outcome(): PromotionOutcome {
    const { state, record } = this;
    const { release } = this.scope;
    return {
      promotion: this.id,
      kind: record.kind,
      release: release.id,
      commit: release.commit,
      target: record.target,
      status: record.status,
      environments: state.environments.map((env) => ({
        ...env,
        functions: release.functions.map((fn) => ({
          function: fn.function,
          sha256: fn.sha256,
          version: env.published?.[fn.function] ?? null,
          published: env.created?.includes(fn.function) ?? false,
          previousLive: env.backup?.[fn.function]?.live ?? null,
        })),
      })),
      ...(state.failure ? { failure: state.failure } : {}),
      ...(state.refusal ? { refusal: state.refusal } : {}),
      ...(state.note ? { note: state.note } : {}),
      timings: { totalMs: Math.round(performance.now() - this.started), testsMs: Math.round(this.testsMs) },
    };
  }
}
