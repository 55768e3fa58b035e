// What a circuit breaker reads, kept as oxy's memmetrics keeps it: counts over
// a rolling 10 s window of 1 s slots (requests, network errors, each status
// code), and latencies over six 10 s histograms. Recording costs a few array
// increments; a latency histogram is log-linear, 1 µs to 1 h at under 1%
// error (HDR's two significant figures), so quantiles need no sorted samples.
import type { BreakerMetrics } from './breaker-expression.js';

const SLOTS = 10;
const SLOT_MS = 1000;

/** Latencies below this many µs are counted exactly; above, 128 sub-buckets per power of two. */
const LINEAR = 256;
const SUB = 128;
const MAX_US = 3_600_000_000;
const BUCKETS = LINEAR + SUB * 24;
const HISTOGRAMS = 6;
const HISTOGRAM_PERIOD_MS = 10_000;

function bucketOf(us: number): number {
  if (us < LINEAR) return us;
  const shift = 32 - Math.clz32(us) - 8;
  return LINEAR + (shift - 1) * SUB + ((us >>> shift) - SUB);
}

/** The highest latency (µs) a bucket holds, as HDR answers a quantile. */
function highestIn(bucket: number): number {
  if (bucket < LINEAR) return bucket;
  const shift = ((bucket - LINEAR) >> 7) + 1;
  const top = SUB + ((bucket - LINEAR) & (SUB - 1)) + 1;
  return top * 2 ** shift - 1;
}

/** Latencies over the last 50 to 60 s, as oxy's rolling HDR histogram. */
class RollingHistogram {
  private readonly counts = Array.from({ length: HISTOGRAMS }, () => new Uint32Array(BUCKETS));
  private readonly totals = new Float64Array(HISTOGRAMS);
  private current = 0;
  private rolledAt: number;

  constructor(private readonly now: () => number) {
    this.rolledAt = now();
  }

  private roll(): void {
    const periods = Math.floor((this.now() - this.rolledAt) / HISTOGRAM_PERIOD_MS);
    if (periods <= 0) return;
    for (let k = 0; k < Math.min(periods, HISTOGRAMS); k++) {
      this.current = (this.current + 1) % HISTOGRAMS;
      this.counts[this.current]!.fill(0);
      this.totals[this.current] = 0;
    }
    this.rolledAt += periods * HISTOGRAM_PERIOD_MS;
  }

  record(us: number): void {
    this.roll();
    this.counts[this.current]![bucketOf(Math.min(Math.max(Math.floor(us), 0), MAX_US))]!++;
    this.totals[this.current]!++;
  }

  /** HDR's ValueAtQuantile: the latency (µs) at `quantile` percent; 0 when empty. */
  atQuantile(quantile: number): number {
    this.roll();
    let total = 0;
    for (const t of this.totals) total += t;
    const wanted = Math.floor((Math.min(quantile, 100) / 100) * total + 0.5);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      for (const c of this.counts) seen += c[b]!;
      if (seen >= wanted) return highestIn(b);
    }
    return 0;
  }

  reset(): void {
    for (const c of this.counts) c.fill(0);
    this.totals.fill(0);
    this.rolledAt = this.now();
  }
}

export class RollingMetrics implements BreakerMetrics {
  private readonly total = new Float64Array(SLOTS);
  private readonly netErrors = new Float64Array(SLOTS);
  private readonly codes = new Map<number, Float64Array>();
  private readonly latencies: RollingHistogram | null;
  /** The second the current slot counts (now / SLOT_MS). */
  private second: number;

  /** `now` in ms, monotonic; `latency` keeps the histogram (only expressions reading it need one). */
  constructor(
    private readonly now: () => number,
    latency: boolean,
  ) {
    this.second = Math.floor(now() / SLOT_MS);
    this.latencies = latency ? new RollingHistogram(now) : null;
  }

  /** Moves the window to now: slots of seconds gone by are emptied. */
  private slot(): number {
    const second = Math.floor(this.now() / SLOT_MS);
    const gone = Math.min(second - this.second, SLOTS);
    for (let k = gone - 1; k >= 0; k--) {
      const i = (second - k) % SLOTS;
      this.total[i] = 0;
      this.netErrors[i] = 0;
      for (const c of this.codes.values()) c[i] = 0;
    }
    if (second > this.second) this.second = second;
    return this.second % SLOTS;
  }

  record(status: number, networkError: boolean, latencyMs: number): void {
    const i = this.slot();
    this.total[i]!++;
    if (networkError) this.netErrors[i]!++;
    let c = this.codes.get(status);
    if (c === undefined) this.codes.set(status, (c = new Float64Array(SLOTS)));
    c[i]!++;
    this.latencies?.record(latencyMs * 1000);
  }

  reset(): void {
    this.total.fill(0);
    this.netErrors.fill(0);
    this.codes.clear();
    this.latencies?.reset();
  }

  totalCount(): number {
    this.slot();
    return sum(this.total);
  }

  networkErrorRatio(): number {
    const total = this.totalCount();
    return total === 0 ? 0 : sum(this.netErrors) / total;
  }

  /** Responses with a status in [from, to) over those in [dividedByFrom, dividedByTo); 0 when there are none of the latter. */
  responseCodeRatio(from: number, to: number, dividedByFrom: number, dividedByTo: number): number {
    this.slot();
    let a = 0;
    let b = 0;
    for (const [code, c] of this.codes) {
      if (code >= from && code < to) a += sum(c);
      if (code >= dividedByFrom && code < dividedByTo) b += sum(c);
    }
    return b === 0 ? 0 : a / b;
  }

  /** Whole milliseconds, as oxy's int(duration / time.Millisecond). */
  latencyAtQuantileMs(quantile: number): number {
    return this.latencies === null ? 0 : Math.floor(this.latencies.atQuantile(quantile) / 1000);
  }
}

function sum(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s;
}
