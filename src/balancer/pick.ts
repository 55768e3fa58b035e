// Chooses the server for one attempt. The round-robin position is shared by
// all workers (one Atomics.add per pick), so consecutive requests visit the
// replicas in turn whichever worker takes them.
import type { ServerRuntime, ServiceRuntime } from './runtime.js';
import type { SharedState } from '../shared/shared-state.js';

/**
 * The next server of `service` that is up and not in `tried`, across weighted
 * children too; when every untried server is down, an untried one anyway (a
 * guess beats a certain 503). Null when the service has no untried server.
 */
export function pickServer(service: ServiceRuntime, state: SharedState, tried: readonly ServerRuntime[] | null): ServerRuntime | null {
  return pickFrom(service, state, tried, false) ?? pickFrom(service, state, tried, true);
}

/** The next server of `service` that is up, or null when none is. */
export function pickUpServer(service: ServiceRuntime, state: SharedState): ServerRuntime | null {
  return pickFrom(service, state, null, false);
}

function pickFrom(service: ServiceRuntime, state: SharedState, tried: readonly ServerRuntime[] | null, downToo: boolean): ServerRuntime | null {
  const order = service.order;
  const n = order.length;
  if (n === 0) return null;
  if (service.kind === 'weighted') {
    for (let i = 0; i < n; i++) {
      const child = service.children[order[state.nextRoundRobin(service.rr) % n]];
      const s = pickFrom(child, state, tried, downToo);
      if (s !== null) return s;
    }
    return null;
  }
  for (let i = 0; i < n; i++) {
    const s = service.servers[order[state.nextRoundRobin(service.rr) % n]];
    if (tried !== null && tried.includes(s)) continue;
    if (downToo || state.isUp(s.slot)) return s;
  }
  // Positions may have been taken by other workers meanwhile: scan once.
  for (const idx of order) {
    const s = service.servers[idx];
    if ((tried === null || !tried.includes(s)) && (downToo || state.isUp(s.slot))) return s;
  }
  return null;
}
