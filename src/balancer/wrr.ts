// Weighted round robin as a precomputed period: smooth weighted round robin
// (nginx's algorithm) spreads heavy servers out instead of bunching them,
// and equal weights give plain rotation. Workers share one counter per
// service and index this period with it, so the order holds across workers.

const MAX_PERIOD = 10_000;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Indexes into `weights`, one full period. Zero weights never appear. */
export function weightedOrder(weights: readonly number[]): number[] {
  let w = weights.map((x) => Math.max(0, Math.floor(x)));
  const g = w.reduce((acc, x) => (x > 0 ? gcd(acc, x) : acc), 0);
  if (g === 0) return [];
  w = w.map((x) => x / g);
  let total = w.reduce((a, b) => a + b, 0);
  if (total > MAX_PERIOD) {
    // Keep proportions within a bounded period; every positive weight stays >= 1.
    const scale = MAX_PERIOD / total;
    w = w.map((x) => (x > 0 ? Math.max(1, Math.round(x * scale)) : 0));
    total = w.reduce((a, b) => a + b, 0);
  }
  const current = new Array<number>(w.length).fill(0);
  const order: number[] = [];
  for (let step = 0; step < total; step++) {
    let best = -1;
    for (let i = 0; i < w.length; i++) {
      if (w[i] === 0) continue;
      current[i] += w[i];
      if (best === -1 || current[i] > current[best]) best = i;
    }
    current[best] -= total;
    order.push(best);
  }
  return order;
}
