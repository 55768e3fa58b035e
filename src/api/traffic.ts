// Live per-service traffic for the dashboard (requests/s, error rate): the
// counts come from metrics/service-traffic.ts, kept whether or not Prometheus
// metrics are on; the dashboard turns two reports into rates.
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
  /** False when no counts are available (the dashboard then shows "—"). */
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
