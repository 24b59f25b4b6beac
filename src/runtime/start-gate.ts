/**
 * How many execution environments of a host are in their init phase at once, every function
 * together. Cold starts are CPU-bound: past the machine's cores, starting more at once only makes
 * every one of them slower (150 at once took 19 s to the first answer), so the rest wait their turn —
 * an invocation's start before any prewarm — instead of failing.
 */
export class StartGate {
  private running = 0;
  /** Per waiting party (a function's pool), what to call when a slot frees; first come, first served. */
  private readonly demand = new Map<object, () => void>();
  /** Starts ahead of any invocation (prewarm), run only when no invocation waits for a slot. */
  private readonly ahead: Array<() => void> = [];

  constructor(readonly limit: number) {}

  get full(): boolean {
    return this.running >= this.limit;
  }

  /** Environments in their init phase now. */
  get starting(): number {
    return this.running;
  }

  /** Starts that wait for a slot: parties with an invocation waiting, and prewarms. */
  get waiting(): number {
    return this.demand.size + this.ahead.length;
  }

  /** Takes a slot for a start that begins now; false when every slot is taken. */
  take(): boolean {
    if (this.full) return false;
    this.running += 1;
    return true;
  }

  /** A start ended (ready, failed or stopped): its slot goes to whoever waits, invocations first. */
  give(): void {
    this.running = Math.max(0, this.running - 1);
    for (const [party, retry] of [...this.demand]) {
      if (this.full) return;
      this.demand.delete(party);
      retry(); // takes a slot, or finds it needs none any more (an environment came free meanwhile)
    }
    while (!this.full && this.ahead.length > 0) this.ahead.shift()?.();
  }

  /** `party` has an invocation waiting for a start: `retry` is called once when a slot frees. */
  wait(party: object, retry: () => void): void {
    if (!this.demand.has(party)) this.demand.set(party, retry);
  }

  /** A start nobody waits for yet (prewarm): run when a slot is free and no invocation waits. */
  later(start: () => void): void {
    this.ahead.push(start);
  }

  /** Forgets the prewarms not begun (the host drains; invocations that wait still get their start). */
  dropPrewarms(): void {
    this.ahead.length = 0;
  }
}
