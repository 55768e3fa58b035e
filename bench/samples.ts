// Latency samples of a load generator: appended without allocation per
// response, summed up once at the end.

/** Rounded to the microsecond, in ms. */
const r3 = (v: number) => Math.round(v * 1000) / 1000;

export interface Summary {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export class Samples {
  private data: Float64Array;
  length = 0;

  constructor(initial = 1 << 18) {
    this.data = new Float64Array(initial);
  }

  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }

  /** Mean, quantiles and max, in ms rounded to the microsecond (0 when there is none). */
  summary(): Summary {
    const s = this.data.subarray(0, this.length).sort();
    const at = (q: number) => (s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
    let sum = 0;
    for (const v of s) sum += v;
    return { mean: r3(s.length === 0 ? 0 : sum / s.length), p50: r3(at(0.5)), p90: r3(at(0.9)), p99: r3(at(0.99)), max: r3(at(1)) };
  }
}
