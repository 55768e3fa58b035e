// Hammers the shared buckets from another thread (see shared-buckets.test.ts).
// All workers wait on `go` so they start together, then run `job`.
import { parentPort, workerData } from 'node:worker_threads';
import { MiddlewareMemory } from '../../src/middlewares/shared-memory.js';

interface Job {
  sab: SharedArrayBuffer;
  /** [go, concurrent, maxConcurrent, phase] */
  control: SharedArrayBuffer;
  job: 'rate' | 'enter' | 'limit' | 'spin';
  iterations: number;
}

const { sab, control, job, iterations } = workerData as Job;
const buckets = new MiddlewareMemory(sab).buckets;
const ctl = new Int32Array(control);
Atomics.wait(ctl, 0, 0);

if (job === 'rate') {
  // A fixed clock: no token comes back, so exactly `burst` (300,000) are given out, whoever asks.
  const h = buckets.hasher('rateLimit', 'contended');
  let granted = 0;
  for (let i = 0; i < iterations; i++) if (buckets.take(h.hash('one source'), 1e9, 300_000, 0, 5000) === 0) granted++;
  parentPort!.postMessage({ granted });
} else if (job === 'enter') {
  // Phase 1: take `iterations` slots; wait for phase 2; give them all back.
  const h = buckets.hasher('inFlightReq', 'contended');
  const tickets: number[] = [];
  for (let i = 0; i < iterations; i++) tickets.push(buckets.enter(h.hash('one source'), 1e9, 1));
  parentPort!.postMessage({ taken: tickets.filter((t) => t !== 0).length });
  Atomics.wait(ctl, 3, 0);
  const { hi, lo } = h.hash('one source');
  for (const t of tickets) buckets.leave(hi, lo, t);
  parentPort!.postMessage({ left: tickets.length });
} else if (job === 'limit') {
  // Take a slot of 3, hold it a moment, give it back; count how many are held at once.
  const h = buckets.hasher('inFlightReq', 'limited');
  let got = 0;
  for (let i = 0; i < iterations; i++) {
    const t = buckets.enter(h.hash('one source'), 3, 1);
    if (t === 0) continue;
    got++;
    const now = Atomics.add(ctl, 1, 1) + 1;
    for (let seen = Atomics.load(ctl, 2); now > seen; seen = Atomics.load(ctl, 2)) Atomics.compareExchange(ctl, 2, seen, now);
    for (let spin = 0; spin < 200; spin++) Atomics.load(ctl, 1);
    Atomics.sub(ctl, 1, 1);
    buckets.leave(h.hi, h.lo, t);
  }
  parentPort!.postMessage({ got });
} else {
  // Updates one set for ever, until terminated, possibly while holding its lock.
  const h = buckets.hasher('rateLimit', 'doomed');
  parentPort!.postMessage({ started: true });
  for (let t = 0; ; t++) buckets.take(h.hash('k'), 1, 1, 0, t);
}
