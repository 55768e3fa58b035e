// Request counters shared by every worker and read by the main thread for
// /metrics: one SharedArrayBuffer, updated with Atomics, never a message per
// request. N requests served by any mix of workers add exactly N.
//
// What is counted is a *cell*: one (scope, method class, status code) triple,
// where a scope is an entry point or a service slot (the slot TablePublisher
// gives a service, stable across table versions). A cell holds a latency
// histogram: one 64-bit counter per bucket (the last one for durations above
// the largest bound) and the sum of durations in microseconds. The request
// count is the sum of the buckets, so a count and its histogram always agree.
//
// Cells are few in practice (a service sees a handful of codes and methods)
// but their possible number is large (65,536 services x 10 methods x 900
// codes), so they live in an open-addressing hash table claimed lock-free by
// the first worker that needs one (compareExchange on the key word). Each
// scope also threads its cells on a list (a lock-free push), so the main
// thread reads or resets one scope without scanning the table.
//
// Layout, in this order (8-byte aligned):
//   globals  BigInt64 x GLOBAL_WORDS   requests received, observations dropped (table full)
//   retries  BigInt64 x maxServices    per service slot
//   data     BigInt64 x cells x (buckets + 2)
//   open     Int32 x workers x entryPoints   in-flight requests, one row per worker
//   heads    Int32 x (maxServices + entryPoints)   1 + first cell of a scope's list, 0 = none
//   next     Int32 x cells             1 + next cell of the same scope, 0 = end
//   keys     Uint32 x cells            1 + packed (scope, method, code), 0 = free

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE'] as const;
/** Method class of anything not in METHODS. */
export const METHOD_OTHER = METHODS.length;
/** A GET that became a WebSocket session: Traefik labels it method GET, protocol websocket. */
export const METHOD_WEBSOCKET = METHOD_OTHER + 1;
export const METHOD_LABELS: readonly string[] = [...METHODS, 'other', 'GET'];
/** The protocol label of each method class. */
export const METHOD_PROTOCOLS: readonly string[] = METHOD_LABELS.map((_, i) => (i === METHOD_WEBSOCKET ? 'websocket' : 'http'));

const GLOBAL_WORDS = 4;
const G_REQUESTS = 0;
const G_DROPPED = 1;
/** Codes are kept as sent, 0..1023 (a backend may answer 999). */
const CODE_SPACE = 1024;
const METHOD_SPACE = 16;
/** Linear probes before an observation is given up (and counted as dropped). */
const MAX_PROBES = 128;

export interface CountersLayout {
  /** Served entry points, in the order workers number them. */
  entryPoints: number;
  /** Service slots (TablePublisher's layout.maxServices). */
  maxServices: number;
  /** Worker threads (one row of open-request gauges each). */
  workers: number;
  /** Hash table size, a power of two. */
  cells: number;
  /** Histogram upper bounds in seconds, ascending. */
  buckets: readonly number[];
}

/** A cell table sized for the publisher's service slots: 4 cells a slot, 2^12..2^20. */
export function defaultCellCount(maxServices: number): number {
  let n = 4096;
  while (n < maxServices * 4 && n < 1 << 20) n *= 2;
  return n;
}

function offsets(l: CountersLayout) {
  const width = l.buckets.length + 2;
  const retries = GLOBAL_WORDS * 8;
  const data = retries + l.maxServices * 8;
  const open = data + l.cells * width * 8;
  const heads = open + l.workers * l.entryPoints * 4;
  const next = heads + (l.maxServices + l.entryPoints) * 4;
  const keys = next + l.cells * 4;
  const end = keys + l.cells * 4;
  return { width, retries, data, open, heads, next, keys, end: Math.ceil(end / 8) * 8 };
}

export function createCountersBuffer(layout: CountersLayout): SharedArrayBuffer {
  if (layout.cells <= 0 || (layout.cells & (layout.cells - 1)) !== 0) throw new Error('counter cells must be a power of two');
  if (layout.maxServices + layout.entryPoints > 1 << 17) throw new Error('too many counter scopes');
  return new SharedArrayBuffer(offsets(layout).end);
}

/** Maps a request method to its class (an index into METHOD_LABELS). */
export function methodClass(method: string): number {
  switch (method) {
    case 'GET':
      return 0;
    case 'HEAD':
      return 1;
    case 'POST':
      return 2;
    case 'PUT':
      return 3;
    case 'DELETE':
      return 4;
    case 'PATCH':
      return 5;
    case 'OPTIONS':
      return 6;
    case 'CONNECT':
      return 7;
    case 'TRACE':
      return 8;
    default:
      return METHOD_OTHER;
  }
}

/** One cell as the main thread reads it. */
export interface CellReading {
  method: number;
  code: number;
  /** Per bucket, not cumulative; the last is above the largest bound. */
  buckets: bigint[];
  count: bigint;
  sumMicros: bigint;
}

export class SharedCounters {
  private readonly globals: BigInt64Array;
  private readonly retries: BigInt64Array;
  private readonly data: BigInt64Array;
  private readonly open: Int32Array;
  private readonly heads: Int32Array;
  private readonly next: Int32Array;
  private readonly keys: Uint32Array;
  private readonly width: number;
  private readonly mask: number;
  private readonly shift: number;
  private readonly bounds: Float64Array;

  constructor(
    readonly sab: SharedArrayBuffer,
    readonly layout: CountersLayout,
  ) {
    const o = offsets(layout);
    this.width = o.width;
    this.globals = new BigInt64Array(sab, 0, GLOBAL_WORDS);
    this.retries = new BigInt64Array(sab, o.retries, layout.maxServices);
    this.data = new BigInt64Array(sab, o.data, layout.cells * o.width);
    this.open = new Int32Array(sab, o.open, layout.workers * layout.entryPoints);
    this.heads = new Int32Array(sab, o.heads, layout.maxServices + layout.entryPoints);
    this.next = new Int32Array(sab, o.next, layout.cells);
    this.keys = new Uint32Array(sab, o.keys, layout.cells);
    this.mask = layout.cells - 1;
    this.shift = 32 - Math.log2(layout.cells);
    // Bounds in microseconds, the unit durations arrive in.
    this.bounds = Float64Array.from(layout.buckets, (b) => b * 1e6);
  }

  /** The scope number of a service slot. */
  serviceScope(slot: number): number {
    return slot;
  }

  /** The scope number of entry point `index`. */
  entryPointScope(index: number): number {
    return this.layout.maxServices + index;
  }

  // --- workers ---------------------------------------------------------------

  /** Histogram bucket of a duration in microseconds. */
  bucketOf(micros: number): number {
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) if (micros <= b[i]) return i;
    return b.length;
  }

  /** Counts one request: two Atomics.add (bucket and sum) once the cell exists. */
  observe(scope: number, method: number, code: number, bucket: number, micros: bigint): void {
    const cell = this.cell(scope, method, code < 0 || code >= CODE_SPACE ? 0 : code);
    if (cell < 0) {
      Atomics.add(this.globals, G_DROPPED, 1n);
      return;
    }
    const base = cell * this.width;
    Atomics.add(this.data, base + bucket, 1n);
    Atomics.add(this.data, base + this.width - 1, micros);
  }

  addRetries(slot: number, n: number): void {
    Atomics.add(this.retries, slot, BigInt(n));
  }

  /** Adjusts this worker's in-flight count on an entry point. */
  addOpen(worker: number, entryPoint: number, delta: number): void {
    Atomics.add(this.open, worker * this.layout.entryPoints + entryPoint, delta);
  }

  /** Zeroes a worker's in-flight row (its requests died with it). */
  resetWorker(worker: number): void {
    for (let e = 0; e < this.layout.entryPoints; e++) Atomics.store(this.open, worker * this.layout.entryPoints + e, 0);
  }

  /** Counts a received request; returns how many were received before it, across workers. */
  nextRequestNumber(): number {
    return Number(Atomics.add(this.globals, G_REQUESTS, 1n)) + 1;
  }

  private cell(scope: number, method: number, code: number): number {
    // < 2^31: scope < 2^17, method < 2^4, code < 2^10.
    const key = (scope * METHOD_SPACE + method) * CODE_SPACE + code + 1;
    const keys = this.keys;
    let i = Math.imul(key, 0x9e3779b1) >>> this.shift;
    for (let n = 0; n < MAX_PROBES; n++) {
      // A plain read is enough: a key word only ever goes from 0 to its final value.
      const k = keys[i];
      if (k === key) return i;
      if (k === 0) {
        const prev = Atomics.compareExchange(keys, i, 0, key);
        if (prev === 0) {
          this.link(scope, i);
          return i;
        }
        if (prev === key) return i;
      }
      i = (i + 1) & this.mask;
    }
    return -1;
  }

  /** Pushes a new cell on its scope's list (cells are never unlinked, so no ABA). */
  private link(scope: number, cell: number): void {
    for (;;) {
      const head = Atomics.load(this.heads, scope);
      Atomics.store(this.next, cell, head);
      if (Atomics.compareExchange(this.heads, scope, head, cell + 1) === head) return;
    }
  }

  // --- main thread -----------------------------------------------------------

  /** Every cell of a scope that counted at least one request since its last reset. */
  read(scope: number): CellReading[] {
    const out: CellReading[] = [];
    for (let c = Atomics.load(this.heads, scope) - 1; c >= 0; c = Atomics.load(this.next, c) - 1) {
      const key = Atomics.load(this.keys, c) - 1;
      const base = c * this.width;
      const buckets: bigint[] = [];
      let count = 0n;
      for (let b = 0; b < this.width - 1; b++) {
        const v = Atomics.load(this.data, base + b);
        buckets.push(v);
        count += v;
      }
      if (count === 0n) continue;
      out.push({
        method: Math.floor(key / CODE_SPACE) % METHOD_SPACE,
        code: key % CODE_SPACE,
        buckets,
        count,
        sumMicros: Atomics.load(this.data, base + this.width - 1),
      });
    }
    return out;
  }

  retriesOf(slot: number): bigint {
    return Atomics.load(this.retries, slot);
  }

  /** In-flight requests on an entry point, all workers together. */
  openRequests(entryPoint: number): number {
    let n = 0;
    for (let w = 0; w < this.layout.workers; w++) n += Atomics.load(this.open, w * this.layout.entryPoints + entryPoint);
    return n;
  }

  requestsReceived(): bigint {
    return Atomics.load(this.globals, G_REQUESTS);
  }

  dropped(): bigint {
    return Atomics.load(this.globals, G_DROPPED);
  }

  /**
   * Zeroes a service slot's counts before the slot is given to another
   * service (TablePublisher does that before publishing the version that
   * uses it, so none of the new service's requests can be lost here).
   */
  resetService(slot: number): void {
    const scope = this.serviceScope(slot);
    Atomics.store(this.retries, slot, 0n);
    for (let c = Atomics.load(this.heads, scope) - 1; c >= 0; c = Atomics.load(this.next, c) - 1) {
      const base = c * this.width;
      for (let j = 0; j < this.width; j++) Atomics.store(this.data, base + j, 0n);
    }
  }
}
