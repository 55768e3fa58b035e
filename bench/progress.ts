// The progress line: what is running, how far along the run is, and an
// estimate of what is left, from the measurements done so far.

export function duration(s: number): string {
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t}s`;
  const m = Math.floor(t / 60);
  if (m < 60) return `${m}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class Progress {
  private readonly startMs: number;
  private done = 0;
  /** Time spent in finished steps, for the estimate. */
  private spentMs = 0;
  private stepStart = 0;

  /** total: steps in the run; guessS: what one step is expected to take before any has finished. */
  constructor(
    private total: number,
    private readonly guessS: number,
    private readonly now: () => number = Date.now,
  ) {
    this.startMs = now();
  }

  /** A step that was not planned (a repeated measurement). */
  addStep(): void {
    this.total++;
  }

  get elapsedS(): number {
    return (this.now() - this.startMs) / 1000;
  }

  /** Seconds left: steps left times the mean step so far (or the guess). */
  etaS(): number {
    const per = this.done === 0 ? this.guessS : this.spentMs / 1000 / this.done;
    return Math.max(0, this.total - this.done) * per;
  }

  /** Marks a step as started and returns its progress line. */
  begin(what: string): string {
    this.stepStart = this.now();
    return `[${this.done + 1}/${this.total}] ${what} | elapsed ${duration(this.elapsedS)}, ETA ${duration(this.etaS())}`;
  }

  end(): void {
    this.done++;
    this.spentMs += this.now() - this.stepStart;
  }
}
