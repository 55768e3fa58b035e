// Per-server and per-service state that every worker reads and writes
// without messages: Int32 words in one SharedArrayBuffer, updated with Atomics.
//
// Layout: [servers x SERVER_WORDS][services x SERVICE_WORDS]. Slots are handed
// out by the main thread (slots.ts) and stay with a server for as long as it
// is in the table, so counts survive table versions.

export const SERVER_WORDS = 2;
export const SERVER_INFLIGHT = 0;
/** 1 = up (default), 0 = down. Stored inverted so a fresh zeroed buffer means "up". */
export const SERVER_DOWN = 1;

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
  return new SharedArrayBuffer(4 * (layout.maxServers * SERVER_WORDS + layout.maxServices * SERVICE_WORDS));
}

export class SharedState {
  readonly words: Int32Array;
  private readonly serviceBase: number;

  constructor(
    readonly sab: SharedArrayBuffer,
    readonly layout: StateLayout,
  ) {
    this.words = new Int32Array(sab);
    this.serviceBase = layout.maxServers * SERVER_WORDS;
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

  isUp(server: number): boolean {
    return Atomics.load(this.words, server * SERVER_WORDS + SERVER_DOWN) === 0;
  }

  setUp(server: number, up: boolean): void {
    Atomics.store(this.words, server * SERVER_WORDS + SERVER_DOWN, up ? 0 : 1);
  }

  /** Resets a slot before it is given to a new server or service. */
  resetServer(server: number): void {
    Atomics.store(this.words, server * SERVER_WORDS + SERVER_INFLIGHT, 0);
    Atomics.store(this.words, server * SERVER_WORDS + SERVER_DOWN, 0);
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
