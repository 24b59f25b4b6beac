/**
 * The journal saves of one promotion run: every step, pause, finish and ledger record goes
 * through here, so that what the run did and what the state database says never differ.
 */
import type { ChangeMeta, PromotionRecord, PromotionStatus, Release } from '../state/index.js';
import type { AppContext } from './context.js';
import type { EnvironmentProgress, PromotionState, Step } from './journal.js';

export class RunJournal {
  /** The journal this run mutates and saves; the record read back after a save is never used in its place. */
  readonly state: PromotionState;

  constructor(
    private readonly ctx: AppContext,
    public record: PromotionRecord<PromotionState>,
    private readonly release: Release,
  ) {
    this.state = record.state;
  }

  get id(): string {
    return this.record.id;
  }

  step(progress: EnvironmentProgress, step: Step): 'next' {
    progress.step = step;
    this.save(this.record.status === 'rolling-back' ? 'rolling-back' : 'running');
    return 'next';
  }

  save(status: PromotionStatus): void {
    this.record = this.ctx.store.transaction(() => this.ctx.store.promotions.save(this.id, status, this.state));
  }

  /** Saves the journal under `status` and appends one ledger record, in one transaction. */
  recordAs(status: PromotionStatus, env: string, kind: string, detail: Record<string, unknown> = {}): void {
    this.ctx.store.transaction(() => {
      this.record = this.ctx.store.promotions.save(this.id, status, this.state);
      this.ctx.store.ledger.append({ ...this.meta(env, '', detail), kind });
    });
  }

  finish(status: PromotionStatus, kind: string, detail: Record<string, unknown>): void {
    this.recordAs(status, this.state.failure?.environment ?? this.record.target, kind, detail);
  }

  /** Appends a ledger record without changing the journal. */
  append(env: string, fn: string, kind: string, detail: Record<string, unknown> = {}): void {
    this.ctx.store.transaction(() => this.ctx.store.ledger.append({ ...this.meta(env, fn, detail), kind }));
  }

  meta(environment: string, fn: string, detail: Record<string, unknown> = {}): ChangeMeta {
    return {
      operation: this.record.kind,
      actor: this.ctx.actor,
      environment,
      ...(fn ? { function: fn } : {}),
      releaseId: this.release.id,
      commit: this.release.commit,
      detail: { promotion: this.id, ...detail },
    };
  }
}
