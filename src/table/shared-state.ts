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

export const SERVICE_WORDS = 1;
export const SERVICE_RR = 0;

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
    Atomics.store(this.words, this.serviceBase + service * SERVICE_WORDS + SERVICE_RR, 0);
    this.onServiceReset?.(service);
  }

  /**
   * Main thread: called when a service slot is (re)assigned, before the table
   * version that uses it is published, so per-service state kept elsewhere
   * (the request counters) can start from zero too.
   */
  onServiceReset: ((service: number) => void) | null = null;
}
