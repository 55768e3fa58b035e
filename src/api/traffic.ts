// The hook for live per-service traffic on the dashboard (requests/s, error
// rate). portero does not count requests per service yet (metrics are issue 5,
// part 3): until a ServiceCounters is passed to the API, GET /api/traffic
// answers {"available": false} and the dashboard shows "—" rather than a
// number. Whoever adds the counters implements this interface (e.g. over
// per-service words of the shared state, found by the service's `rr` slot)
// and passes it as ApiSources.serviceCounters from portero.ts; nothing else
// needs to change.
import type { ServiceSpec } from '../table/spec.js';

/** Cumulative counts for one service since portero started (or since its slot was assigned). */
export interface ServiceCount {
  /** Requests routed to the service. */
  requests: number;
  /** Of those, the ones answered with a 5xx (portero's own 502/503/504 included). */
  errors: number;
}

export interface ServiceCounters {
  /** The service's counts now, or null if it has none. Called on the main thread, per request to /api/traffic. */
  read(service: ServiceSpec): ServiceCount | null;
}

export interface TrafficReport {
  /** False until portero counts requests per service; the dashboard then shows "—". */
  available: boolean;
  /** When the counts were read (ms since the epoch), so clients can turn two reports into rates. */
  at: number;
  services: Record<string, ServiceCount>;
}

export function trafficReport(services: readonly ServiceSpec[], counters: ServiceCounters | undefined): TrafficReport {
  const at = Date.now();
  if (counters === undefined) return { available: false, at, services: {} };
  const out: Record<string, ServiceCount> = {};
  for (const s of services) {
    const c = counters.read(s);
    if (c !== null) out[s.name] = { requests: c.requests, errors: c.errors };
  }
  return { available: true, at, services: out };
}
