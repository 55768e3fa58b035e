// Requests and 5xx per service for the dashboard, with or without Prometheus
// metrics. Workers count into two wrapping Uint32 words per service slot in
// the shared state; the main thread turns them into exact cumulative counts
// by adding the difference since its last read (modulo 2^32), reading at
// least every minute so a slot cannot wrap unseen (2^32 requests in a minute
// would be 70 million per second).
import type { ServiceCount, ServiceCounters } from '../api/traffic.js';
import type { SharedState } from '../shared/shared-state.js';
import type { ServiceSpec } from '../table/spec.js';

const READ_EVERY_MS = 60_000;

interface Seen {
  rawRequests: number;
  rawErrors: number;
  requests: number;
  errors: number;
}

export class ServiceTraffic implements ServiceCounters {
  private readonly seen = new Map<number, Seen>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly state: SharedState,
    /** The slots in use now (the published table's services). */
    private readonly slots: () => Iterable<number>,
  ) {
    state.serviceResetListeners.add((slot) => this.seen.delete(slot));
    this.timer = setInterval(() => {
      for (const slot of this.slots()) this.count(slot);
    }, READ_EVERY_MS).unref();
  }

  read(service: ServiceSpec): ServiceCount {
    const s = this.count(service.rr);
    return { requests: s.requests, errors: s.errors };
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private count(slot: number): Seen {
    const raw = this.state.requestCounts(slot);
    let s = this.seen.get(slot);
    if (s === undefined) {
      // The words start at zero when a slot is assigned, so the first read is the count so far.
      s = { rawRequests: 0, rawErrors: 0, requests: 0, errors: 0 };
      this.seen.set(slot, s);
    }
    s.requests += (raw.requests - s.rawRequests) >>> 0;
    s.errors += (raw.errors - s.rawErrors) >>> 0;
    s.rawRequests = raw.requests;
    s.rawErrors = raw.errors;
    return s;
  }
}
