// The table rateLimit and inFlightReq share across workers: token bucket math
// on a fake clock (checked against golang.org/x/time/rate's), in-flight
// counts, a flood of sources in fixed memory, and several threads updating
// one entry at once.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { SETS, WAYS } from '../../src/middlewares/shared-buckets.js';
import { createMiddlewareMemory, MiddlewareMemory, workerDied } from '../../src/middlewares/shared-memory.js';

const fresh = () => {
  const sab = createMiddlewareMemory();
  return { sab, buckets: new MiddlewareMemory(sab).buckets };
};

/** golang.org/x/time/rate as Traefik uses it: Reserve(), then Cancel() when the wait exceeds maxDelay. */
class GoLimiter {
  private tokens: number;
  private last = -Infinity;
  constructor(
    private readonly perMs: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }
  /** The wait (0: at once), or minus it when refused. */
  allow(now: number, maxDelayMs: number): number {
    const advanced = this.last === -Infinity ? this.burst : Math.min(this.burst, this.tokens + (now - this.last) * this.perMs);
    this.last = now;
    const left = advanced - 1;
    const wait = left < 0 ? -left / this.perMs : 0;
    if (wait > maxDelayMs) {
      this.tokens = advanced;
      return -wait;
    }
    this.tokens = left;
    return wait;
  }
}

/** A seeded PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('token buckets', () => {
  test('burst at once, then one per interval; a wait up to maxDelay is served late, a longer one refused', () => {
    const { buckets } = fresh();
    const h = buckets.hasher('rateLimit', 'api@file');
    // average 10 per 1s, burst 5: a token every 100 ms, waits up to 50 ms.
    const take = (t: number) => buckets.take(h.hash('10.0.0.1'), 100, 5, 50, t);
    assert.deepEqual([1000, 1000, 1000, 1000, 1000].map(take), [0, 0, 0, 0, 0]);
    assert.equal(take(1000), -100, 'refused: the next token is 100 ms away');
    assert.equal(take(1060), 40, 'served 40 ms late');
    assert.equal(take(1060), -140, 'that token was spoken for');
    assert.equal(take(1200), 0, 'a token came back at 1200');
    assert.equal(take(2200), 0);
    assert.deepEqual([2200, 2200, 2200, 2200].map(take), [0, 0, 0, 0], 'a second later the bucket is full again');
    assert.ok(take(2200) < 0);
  });

  test('a full bucket serves at once after hours of uptime, when float ms round the sum a few ns high', () => {
    const { buckets } = fresh();
    const h = buckets.hasher('rateLimit', 'hourly@file');
    // average 1 per hour, burst 1; (now + 3.6e6) - now - 3.6e6 is 3.7e-9 here, not 0.
    const now = 29_956_163.651335012;
    assert.ok((now + 3_600_000) - now - 3_600_000 > 0);
    assert.equal(buckets.take(h.hash('2.2.2.2'), 3_600_000, 1, 1_800_000, now), 0);
  });

  test('the same decisions as golang.org/x/time/rate over random traffic', () => {
    for (const [average, periodMs, burst, seed] of [
      [10, 1000, 5, 1],
      [100, 1000, 1, 2],
      [3, 60_000, 2, 3],
      [7, 1000, 20, 4],
    ] as const) {
      const { buckets } = fresh();
      const h = buckets.hasher('rateLimit', `m${seed}`);
      const perSecond = (average * 1000) / periodMs;
      const maxDelay = perSecond < 1 ? 500 : 1000 / (Math.trunc(perSecond) * 2);
      const go = new GoLimiter(average / periodMs, burst);
      const next = random(seed);
      let now = 1000;
      for (let i = 0; i < 5000; i++) {
        now += next() < 0.7 ? next() * (periodMs / average) * 0.5 : next() * (periodMs / average) * 4;
        const got = buckets.take(h.hash('client'), periodMs / average, burst, maxDelay, now);
        const want = go.allow(now, maxDelay);
        assert.ok(Math.abs(got - want) < 1e-6, `average ${average}/${periodMs}ms burst ${burst}, step ${i} at ${now}: ${got} vs Go's ${want}`);
      }
    }
  });

  test('each source and each middleware has a bucket of its own', () => {
    const { buckets } = fresh();
    const a = buckets.hasher('rateLimit', 'a@file');
    const b = buckets.hasher('rateLimit', 'b@file');
    assert.equal(buckets.take(a.hash('1.1.1.1'), 1000, 1, 0, 10), 0);
    assert.ok(buckets.take(a.hash('1.1.1.1'), 1000, 1, 0, 10) < 0);
    assert.equal(buckets.take(a.hash('2.2.2.2'), 1000, 1, 0, 10), 0, 'another source');
    assert.equal(buckets.take(b.hash('1.1.1.1'), 1000, 1, 0, 10), 0, 'another middleware');
    assert.notDeepEqual({ ...a.hash('x') }, { ...fresh().buckets.hasher('rateLimit', 'a@file').hash('x') }, 'another instance hashes differently (seeded)');
  });
});

describe('in-flight counts', () => {
  test('at most amount at once; a slot given back frees it; a worker death lets counts start over and ignores stale tickets', () => {
    const { sab, buckets } = fresh();
    const h = buckets.hasher('inFlightReq', 'conns@file');
    const t1 = buckets.enter(h.hash('host.test'), 2, 1);
    const t2 = buckets.enter(h.hash('host.test'), 2, 1);
    assert.ok(t1 !== 0 && t2 !== 0);
    assert.equal(buckets.enter(h.hash('host.test'), 2, 1), 0, 'the third is refused');
    assert.notEqual(buckets.enter(h.hash('other.test'), 2, 1), 0, 'another source counts apart');
    const { hi, lo } = h.hash('host.test');
    buckets.leave(hi, lo, t1);
    assert.equal(buckets.inFlight(h.hash('host.test')), 1);
    const t3 = buckets.enter(h.hash('host.test'), 2, 1);
    assert.notEqual(t3, 0);
    workerDied(sab);
    assert.equal(buckets.inFlight(h.hash('host.test')), 0, 'what a dead worker held is forgotten');
    const t4 = buckets.enter(h.hash('host.test'), 2, 1);
    buckets.leave(hi, lo, t2);
    buckets.leave(hi, lo, t3);
    assert.equal(buckets.inFlight(h.hash('host.test')), 1, 'slots taken before the death do not free slots taken after it');
    buckets.leave(hi, lo, t4);
    assert.equal(buckets.inFlight(h.hash('host.test')), 0);
  });
});

describe('a flood of sources', () => {
  test('a million distinct sources: fixed memory, limits of recent and busy sources kept, idle full buckets reused first', () => {
    const { sab, buckets } = fresh();
    const bytes = sab.byteLength;
    const slow = buckets.hasher('rateLimit', 'slow');
    const fast = buckets.hasher('rateLimit', 'fast');
    const conns = buckets.hasher('inFlightReq', 'conns');
    const HOUR = 3_600_000;
    assert.equal(buckets.take(slow.hash('victim'), HOUR, 1, 500, 1), 0);
    assert.ok(buckets.take(slow.hash('victim'), HOUR, 1, 500, 1) < 0);
    assert.notEqual(buckets.enter(conns.hash('busy'), 1, 1), 0);

    // Sources whose bucket is full again right after their request: they hold nothing worth keeping.
    let now = 1;
    for (let i = 0; i < 1_000_000; i++) buckets.take(fast.hash(`flood-${i}`), 0.0005, 1, 0, (now += 0.001));
    assert.equal(sab.byteLength, bytes);
    assert.equal(buckets.used(), SETS * WAYS, 'every entry in use, none more');
    assert.ok(buckets.take(slow.hash('victim'), HOUR, 1, 500, now) < 0, 'a limited source outlives a flood of idle ones');
    assert.equal(buckets.enter(conns.hash('busy'), 1, now), 0, 'so does a busy in-flight count');

    // Sources that each hold a spent bucket: the table keeps working, the stalest are reused.
    for (let i = 0; i < 300_000; i++) {
      now += 0.001;
      assert.equal(buckets.take(slow.hash(`spent-${i}`), HOUR, 1, 500, now), 0);
      if (i % 1000 === 0) assert.ok(buckets.take(slow.hash(`spent-${i}`), HOUR, 1, 500, now) < 0, `spent-${i} is limited`);
    }
    assert.equal(buckets.take(slow.hash('victim'), HOUR, 1, 500, now), 0, 'a full table forgets its stalest limits first (the documented cost)');
    assert.equal(buckets.enter(conns.hash('busy'), 1, now), 0, 'requests in flight are forgotten last');
    assert.equal(sab.byteLength, bytes);
  });
});

describe('several threads, one buffer', () => {
  const url = new URL('../helpers/buckets-worker.js', import.meta.url);
  const run = async (job: string, iterations: number, threads = 3) => {
    const sab = createMiddlewareMemory();
    const control = new SharedArrayBuffer(16);
    const ctl = new Int32Array(control);
    const workers = Array.from({ length: threads }, () => new Worker(url, { workerData: { sab, control, job, iterations } }));
    const first = workers.map((w) => new Promise<Record<string, number>>((resolve, reject) => (w.once('message', resolve), w.once('error', reject))));
    await new Promise((r) => setTimeout(r, 100));
    Atomics.store(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    return { sab, ctl, workers, results: await Promise.all(first) };
  };

  test('no token given twice: exactly burst granted among all threads', async () => {
    const { workers, results } = await run('rate', 200_000);
    assert.equal(
      results.reduce((n, r) => n + r.granted!, 0),
      300_000,
    );
    await Promise.all(workers.map((w) => w.terminate()));
  });

  test('no count lost: every slot taken is counted, every one given back is uncounted', async () => {
    const { sab, ctl, workers, results } = await run('enter', 100_000);
    assert.deepEqual(results.map((r) => r.taken), [100_000, 100_000, 100_000]);
    const buckets = new MiddlewareMemory(sab).buckets;
    const h = buckets.hasher('inFlightReq', 'contended');
    assert.equal(buckets.inFlight(h.hash('one source')), 300_000);
    const left = workers.map((w) => new Promise((resolve) => w.once('message', resolve)));
    Atomics.store(ctl, 3, 1);
    Atomics.notify(ctl, 3);
    await Promise.all(left);
    assert.equal(buckets.inFlight(h.hash('one source')), 0);
    await Promise.all(workers.map((w) => w.terminate()));
  });

  test('a limit of 3 is never exceeded, and every slot comes back', async () => {
    const { sab, ctl, workers, results } = await run('limit', 50_000);
    assert.ok(results.every((r) => r.got! > 0), JSON.stringify(results));
    assert.ok(Atomics.load(ctl, 2) <= 3, `at most 3 at once, saw ${Atomics.load(ctl, 2)}`);
    const buckets = new MiddlewareMemory(sab).buckets;
    assert.equal(buckets.inFlight(buckets.hasher('inFlightReq', 'limited').hash('one source')), 0);
    await Promise.all(workers.map((w) => w.terminate()));
  });

  test('a thread that dies mid-update (perhaps holding a lock) stops nobody for long', async () => {
    const sab = createMiddlewareMemory();
    const control = new SharedArrayBuffer(16);
    Atomics.store(new Int32Array(control), 0, 1);
    const buckets = new MiddlewareMemory(sab).buckets;
    const h = buckets.hasher('rateLimit', 'doomed');
    for (let round = 0; round < 5; round++) {
      const w = new Worker(url, { workerData: { sab, control, job: 'spin', iterations: 0 } });
      await new Promise((resolve) => w.once('message', resolve));
      await new Promise((r) => setTimeout(r, 20 + round * 7));
      await w.terminate();
      const t0 = performance.now();
      buckets.take(h.hash('k'), 1, 1, 0, 1e12);
      assert.ok(performance.now() - t0 < 1000, `round ${round}: ${(performance.now() - t0).toFixed(0)} ms`);
    }
  });
});
