// Where rateLimit keeps a token bucket and inFlightReq a counter per
// (middleware, source), in the memory every worker shares, so a limit holds
// for the whole instance. The table never grows: 8192 sets of 8 entries
// (65,536, Traefik's own bound on sources), ~2 MiB. A source is a 64-bit
// seeded hash (two 32-bit lanes over the string, no allocation); its set is
// taken from the hash, and a new source takes an empty entry of the set, else
// the one that holds nothing (a bucket full again, no request in flight),
// else the least recently used: a flood of sources only recycles entries, and
// forgets busy sources last.
//
// Each set has a spin lock (Atomics.compareExchange): an update reads and
// writes several fields (key, bucket, time), which one CAS word cannot hold,
// and the critical section is a few arithmetic operations with nothing that
// can throw or wait. A lock held for more than ~50 ms belongs to a worker
// that died mid-update: it is taken over, at worst merging two updates of one
// set rather than stopping every worker that hashes there.
//
// In-flight counts carry a stamp and an epoch: a slot is given back only to
// the count it was taken from, so neither an entry reused for another source
// nor a worker that died holding slots can skew a count for good (the
// supervisor bumps the epoch when a worker dies, which lets every count start
// over at 0 as it is next used).

export const SETS = 8192;
export const WAYS = 8;
const ENTRY_BYTES = 32;
const HEADER_BYTES = 64;
const LOCKS = HEADER_BYTES / 4;
const ENTRIES = (HEADER_BYTES + SETS * 4) / 4;
/** Bytes of the table: a header, a lock per set, the entries. */
export const BUCKETS_BYTES = HEADER_BYTES + SETS * 4 + SETS * WAYS * ENTRY_BYTES;

// Header words.
const EPOCH = 0;
const STAMPS = 1;

// An entry, in Int32 words: key (2), in-flight count, stamp (0: a bucket), then
// a float64 (bucket: when it is full again, ms; in-flight: the epoch, as an
// Int32 in its first half) and a float64 (last used, ms).
const KEY_HI = 0;
const KEY_LO = 1;
const COUNT = 2;
const STAMP = 3;
const EPOCH_OF = 4;
const FULL_AT = 2; // float64 index within the entry
const USED_AT = 3;

/** Spins before sleeping, and 1 ms sleeps before a lock is taken over. */
const SPINS = 200;
const MAX_SLEEPS = 50;

/** A monotonic clock in ms, the same in every thread of the process. */
/** A wait shorter than this (1 µs) is rounding, not a token still to come. */
const NO_WAIT_MS = 0.001;

export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** One middleware's hash of sources: `hi`/`lo` hold the last source hashed. */
export class SourceHash {
  hi = 0;
  lo = 0;
  private readonly seedA: number;
  private readonly seedB: number;

  constructor(seedA: number, seedB: number, prefix: string) {
    this.run(seedA, seedB, prefix);
    this.seedA = this.hi;
    this.seedB = this.lo;
  }

  hash(source: string): this {
    this.run(this.seedA, this.seedB, source);
    this.hi = fmix(this.hi);
    this.lo = fmix(this.lo);
    if (this.hi === 0 && this.lo === 0) this.lo = 1; // 0/0 marks an empty entry
    return this;
  }

  private run(a: number, b: number, s: string): void {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    this.hi = a;
    this.lo = b;
  }
}

export class SharedBuckets {
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;

  /** `offset`: where the table starts in `sab`, a multiple of 8. `seed`: the instance's secret, so sources cannot be chosen to collide. */
  constructor(
    sab: SharedArrayBuffer,
    offset: number,
    private readonly seed: Buffer,
  ) {
    this.i32 = new Int32Array(sab, offset, BUCKETS_BYTES / 4);
    this.f64 = new Float64Array(sab, offset, BUCKETS_BYTES / 8);
  }

  /** The hash of one middleware's sources: `kind` and `name` keep middlewares apart. */
  hasher(kind: string, name: string): SourceHash {
    return new SourceHash(this.seed.readInt32LE(0), this.seed.readInt32LE(4), `${kind}\0${name}\0`);
  }

  /**
   * rateLimit (GCRA, the same as a token bucket of `burst` refilled every
   * `intervalMs`): takes a token. Returns how long to wait before going on
   * (0: at once, at most maxDelayMs, the token taken), or minus the wait a
   * request refused would have needed (no token taken).
   */
  take(h: SourceHash, intervalMs: number, burst: number, maxDelayMs: number, now: number): number {
    const set = h.hi & (SETS - 1);
    this.lock(set);
    const e = this.entry(set, h.hi, h.lo, now, true);
    const f = (e >> 1) + FULL_AT;
    const next = Math.max(this.f64[f]!, now) + intervalMs;
    const wait = next - now - burst * intervalMs;
    this.f64[f + 1] = now;
    let result: number;
    if (wait <= maxDelayMs) {
      this.f64[f] = next;
      // Times are hours of uptime in float ms: (now + i) - now - i can come out a few ns above 0, which is no wait.
      result = wait > NO_WAIT_MS ? wait : 0;
    } else {
      result = -wait;
    }
    this.unlock(set);
    return result;
  }

  /** inFlightReq: takes a slot when fewer than `amount` are taken; returns the ticket leave() needs, or 0 when none is free. */
  enter(h: SourceHash, amount: number, now: number): number {
    const set = h.hi & (SETS - 1);
    this.lock(set);
    const e = this.entry(set, h.hi, h.lo, now, true);
    const epoch = Atomics.load(this.i32, EPOCH);
    const i = this.i32;
    if (i[e + STAMP] === 0 || i[e + EPOCH_OF] !== epoch) {
      i[e + COUNT] = 0;
      i[e + STAMP] = this.newStamp();
      i[e + EPOCH_OF] = epoch;
    }
    this.f64[(e >> 1) + USED_AT] = now;
    let ticket = 0;
    if (i[e + COUNT]! < amount) {
      i[e + COUNT]!++;
      ticket = i[e + STAMP]!;
    }
    this.unlock(set);
    return ticket;
  }

  /** Gives back a slot enter() gave (the source's hash as it was then). */
  leave(hi: number, lo: number, ticket: number): void {
    const set = hi & (SETS - 1);
    this.lock(set);
    const e = this.entry(set, hi, lo, 0, false);
    const i = this.i32;
    if (e >= 0 && i[e + STAMP] === ticket && i[e + EPOCH_OF] === Atomics.load(i, EPOCH) && i[e + COUNT]! > 0) i[e + COUNT]!--;
    this.unlock(set);
  }

  /** Slots taken for a source (tests and diagnostics). */
  inFlight(h: SourceHash): number {
    const set = h.hi & (SETS - 1);
    this.lock(set);
    const e = this.entry(set, h.hi, h.lo, 0, false);
    const i = this.i32;
    const n = e >= 0 && i[e + STAMP] !== 0 && i[e + EPOCH_OF] === Atomics.load(i, EPOCH) ? i[e + COUNT]! : 0;
    this.unlock(set);
    return n;
  }

  /** Entries in use (tests): at most SETS * WAYS. */
  used(): number {
    let n = 0;
    for (let w = 0; w < SETS * WAYS; w++) if (this.i32[ENTRIES + w * 8 + KEY_HI] !== 0 || this.i32[ENTRIES + w * 8 + KEY_LO] !== 0) n++;
    return n;
  }

  /** A worker died: what it held in flight is never given back, so every count starts over. */
  forgetInFlight(): void {
    Atomics.add(this.i32, EPOCH, 1);
  }

  /** The key's entry in its (locked) set; when absent, -1, or with `claim` the way it takes over. */
  private entry(set: number, hi: number, lo: number, now: number, claim: boolean): number {
    const i = this.i32;
    const first = ENTRIES + set * WAYS * 8;
    for (let e = first; e < first + WAYS * 8; e += 8) if (i[e + KEY_HI] === hi && i[e + KEY_LO] === lo) return e;
    if (!claim) return -1;
    // The victim: an empty way, else the one holding nothing, else the least recently used.
    const epoch = Atomics.load(i, EPOCH);
    let victim = first;
    let victimRank = Infinity;
    let victimUsed = Infinity;
    for (let e = first; e < first + WAYS * 8; e += 8) {
      let rank: number;
      if (i[e + KEY_HI] === 0 && i[e + KEY_LO] === 0) rank = 0;
      else if (i[e + STAMP] === 0) rank = this.f64[(e >> 1) + FULL_AT]! > now ? 2 : 1;
      else rank = i[e + COUNT]! > 0 && i[e + EPOCH_OF] === epoch ? 3 : 1;
      const used = this.f64[(e >> 1) + USED_AT]!;
      if (rank < victimRank || (rank === victimRank && used < victimUsed)) {
        victim = e;
        victimRank = rank;
        victimUsed = used;
      }
      if (rank === 0) break;
    }
    i[victim + KEY_HI] = hi;
    i[victim + KEY_LO] = lo;
    i[victim + COUNT] = 0;
    i[victim + STAMP] = 0;
    this.f64[(victim >> 1) + FULL_AT] = 0;
    this.f64[(victim >> 1) + USED_AT] = now;
    return victim;
  }

  private newStamp(): number {
    let s: number;
    do s = (Atomics.add(this.i32, STAMPS, 1) + 1) | 0;
    while (s === 0);
    return s;
  }

  private lock(set: number): void {
    if (Atomics.compareExchange(this.i32, LOCKS + set, 0, 1) !== 0) this.contended(LOCKS + set);
  }

  private contended(at: number): void {
    const i = this.i32;
    for (let n = 0; ; n++) {
      if (Atomics.load(i, at) === 0 && Atomics.compareExchange(i, at, 0, 1) === 0) return;
      if (n < SPINS) continue;
      if (n >= SPINS + MAX_SLEEPS) return; // its holder is gone: the lock is ours
      Atomics.wait(i, at, 1, 1);
    }
  }

  private unlock(set: number): void {
    Atomics.store(this.i32, LOCKS + set, 0);
  }
}
