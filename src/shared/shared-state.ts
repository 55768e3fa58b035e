// Per-server and per-service state that every worker reads and writes
// without messages: Int32 words in one SharedArrayBuffer, updated with Atomics.
//
// Layout: [header][servers x SERVER_WORDS][services x SERVICE_WORDS]. Slots are
// handed out by the main thread (slots.ts) and stay with a server for as long
// as it is in the table, so counts survive table versions. The header holds
// the buffer's creation time, the zero of the shared clock (tenths of a
// second) that passive health checks use, the same in every thread.

/** The creation time in ms, as two words (high, low), then the count of requests cut by an internal error (Uint32, wrapping). */
export const HEADER_WORDS = 3;
const HEADER_INTERNAL_ERRORS = 2;

export const SERVER_WORDS = 5;
export const SERVER_INFLIGHT = 0;
/** Active health check: 1 = down, 0 = up. Stored inverted so a fresh zeroed buffer means "up". */
export const SERVER_DOWN = 1;
/** Passive health check: transport failures counted since WINDOW (shared clock), and the time the server is out until (0: not out). */
export const SERVER_FAILS = 2;
export const SERVER_WINDOW = 3;
export const SERVER_OUT_UNTIL = 4;

export const SERVICE_WORDS = 3;
export const SERVICE_RR = 0;
/** Requests answered for the service, and of those the 5xx: always counted, for the dashboard. Uint32, wrapping. */
export const SERVICE_REQUESTS = 1;
export const SERVICE_ERRORS = 2;

export interface StateLayout {
  maxServers: number;
  maxServices: number;
}

export function createStateBuffer(layout: StateLayout): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(4 * (HEADER_WORDS + layout.maxServers * SERVER_WORDS + layout.maxServices * SERVICE_WORDS));
  const now = Date.now();
  const header = new Int32Array(sab, 0, HEADER_WORDS);
  header[0] = Math.floor(now / 2 ** 32);
  header[1] = now % 2 ** 32 | 0;
  return sab;
}

/** What a passive health check counts and for how long, in tenths of a second of the shared clock. */
export interface PassiveLimits {
  windowDs: number;
  maxFails: number;
}

export class SharedState {
  readonly words: Int32Array;
  private readonly header: Int32Array;
  private readonly serviceBase: number;
  /** The shared clock's zero, ms since the epoch. */
  private readonly epochMs: number;

  constructor(
    readonly sab: SharedArrayBuffer,
    readonly layout: StateLayout,
  ) {
    // Server words start after the header: word HEADER_WORDS is server 0.
    this.words = new Int32Array(sab, 4 * HEADER_WORDS);
    this.serviceBase = layout.maxServers * SERVER_WORDS;
    const header = new Int32Array(sab, 0, HEADER_WORDS);
    this.header = header;
    this.epochMs = header[0] * 2 ** 32 + (header[1] >>> 0);
  }

  /** A request was cut because portero's own code threw while handling it. */
  countInternalError(): void {
    Atomics.add(this.header, HEADER_INTERNAL_ERRORS, 1);
  }

  /** Requests cut by internal errors since start, all workers (wraps at 2^32). */
  internalErrors(): number {
    return Atomics.load(this.header, HEADER_INTERNAL_ERRORS) >>> 0;
  }

  /** The shared clock: tenths of a second since the buffer was created. */
  now(): number {
    return ((Date.now() - this.epochMs) / 100) | 0;
  }

  /** Next position of a service's shared round-robin counter. */
  nextRoundRobin(service: number): number {
    return Atomics.add(this.words, this.serviceBase + service * SERVICE_WORDS + SERVICE_RR, 1) >>> 0;
  }

  /** One request answered for a service: two Atomics.add, cheaper than the optional Prometheus metrics. */
  countRequest(service: number, error: boolean): void {
    const base = this.serviceBase + service * SERVICE_WORDS;
    Atomics.add(this.words, base + SERVICE_REQUESTS, 1);
    if (error) Atomics.add(this.words, base + SERVICE_ERRORS, 1);
  }

  /** The raw (wrapping) request and error counts of a service. */
  requestCounts(service: number): { requests: number; errors: number } {
    const base = this.serviceBase + service * SERVICE_WORDS;
    return { requests: Atomics.load(this.words, base + SERVICE_REQUESTS) >>> 0, errors: Atomics.load(this.words, base + SERVICE_ERRORS) >>> 0 };
  }

  inflight(server: number): number {
    return Atomics.load(this.words, server * SERVER_WORDS + SERVER_INFLIGHT);
  }

  addInflight(server: number, delta: number): void {
    Atomics.add(this.words, server * SERVER_WORDS + SERVER_INFLIGHT, delta);
  }

  /** Neither failing its active check nor taken out by its passive one. */
  isUp(server: number): boolean {
    const base = server * SERVER_WORDS;
    if (Atomics.load(this.words, base + SERVER_DOWN) !== 0) return false;
    const until = Atomics.load(this.words, base + SERVER_OUT_UNTIL);
    return until === 0 || until <= this.now();
  }

  /** Out by the passive check until this shared-clock time (0: not out). */
  outUntil(server: number): number {
    const until = Atomics.load(this.words, server * SERVER_WORDS + SERVER_OUT_UNTIL);
    return until !== 0 && until > this.now() ? until : 0;
  }

  /**
   * A transport failure (refused, timed out) to a server with a passive
   * check: maxFails of them within the window take it out for the window.
   * Workers race on the count; being off by one failure is harmless.
   * True when this failure took the server out.
   */
  recordFailure(server: number, limits: PassiveLimits): boolean {
    const base = server * SERVER_WORDS;
    const now = this.now();
    if (now - Atomics.load(this.words, base + SERVER_WINDOW) >= limits.windowDs) {
      Atomics.store(this.words, base + SERVER_WINDOW, now);
      Atomics.store(this.words, base + SERVER_FAILS, 0);
    }
    if (Atomics.add(this.words, base + SERVER_FAILS, 1) + 1 < limits.maxFails) return false;
    Atomics.store(this.words, base + SERVER_FAILS, 0);
    Atomics.store(this.words, base + SERVER_OUT_UNTIL, now + limits.windowDs);
    return true;
  }

  setUp(server: number, up: boolean): void {
    Atomics.store(this.words, server * SERVER_WORDS + SERVER_DOWN, up ? 0 : 1);
  }

  /** Resets a slot before it is given to a new server or service. */
  resetServer(server: number): void {
    for (let w = 0; w < SERVER_WORDS; w++) Atomics.store(this.words, server * SERVER_WORDS + w, 0);
  }

  resetService(service: number): void {
    const base = this.serviceBase + service * SERVICE_WORDS;
    for (let w = 0; w < SERVICE_WORDS; w++) Atomics.store(this.words, base + w, 0);
    for (const fn of this.serviceResetListeners) fn(service);
  }

  /**
   * Main thread: called when a service slot is (re)assigned, before the table
   * version that uses it is published, so per-service state kept elsewhere
   * (the request counters) can start from zero too.
   */
  readonly serviceResetListeners = new Set<(service: number) => void>();
}
