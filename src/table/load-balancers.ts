// Main thread: load balancer services -> LoadBalancerSpecs, remembered by
// service name across compilations.
//
// With 10,000 services of 4 replicas, re-parsing 40,000 server URLs and
// re-keying 40,000 server slots on every update was most of an update's cost.
// A service whose servers did not change keeps its spec object (and so its
// encoded line, see wire.ts); a changed one keeps the slots of the servers it
// still has, so in-flight counts and health stay attached to them.
import { stickySpec, type StickySpec } from '../balancer/sticky.js';
import { weightedOrder } from '../balancer/wrr.js';
import type { HealthCheckConfig, LoadBalancerConfig } from '../dynamic/model.js';
import type { HealthTarget } from '../health/checker.js';
import { parseDuration } from '../config/values.js';
import type { PassiveLimits } from '../shared/shared-state.js';
import type { SlotPool } from '../shared/slots.js';
import type { LoadBalancerSpec, ServerSpec, UpstreamTls } from './spec.js';

interface Entry {
  passHostHeader: boolean;
  healthCheck: HealthCheckConfig | undefined;
  passive: PassiveLimits | null;
  /** JSON of the health check settings, to notice a change. */
  checks: string;
  transport: UpstreamTls | null;
  /** JSON of the transport, to notice a change. */
  transportKey: string;
  sticky: StickySpec | null;
  pipelining: number | null;
  /** One per configured server, in order, each with its slot. */
  specs: ServerSpec[];
  order: number[];
  spec: LoadBalancerSpec | null;
  /** The compilation that last used it. */
  epoch: number;
}

function parseServerUrl(raw: string): (Omit<ServerSpec, 'weight' | 'slot' | 'pathPrefix'> & { path: string }) | string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return `invalid server url ${JSON.stringify(raw)}`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `server url ${JSON.stringify(raw)}: must be http:// or https://`;
  if (u.hostname === '') return `server url ${JSON.stringify(raw)} has no host`;
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const tls = u.protocol === 'https:';
  // As in Traefik v3, the url's path counts only with preservePath; its query never does.
  return { url: raw, host, port: u.port === '' ? (tls ? 443 : 80) : Number(u.port), tls, path: u.pathname === '/' ? '' : u.pathname };
}

/** Traefik's defaults: a 10 s window, out after 1 failure. */
function passiveLimits(config: LoadBalancerConfig): PassiveLimits | null {
  const p = config.passiveHealthCheck;
  if (p === undefined) return null;
  const windowMs = parseDuration(p.failureWindow ?? '10s', 'failureWindow');
  return { windowDs: Math.max(1, Math.round(windowMs / 100)), maxFails: p.maxFailedAttempts ?? 1 };
}

function checksOf(config: LoadBalancerConfig): string {
  return config.healthCheck === undefined && config.passiveHealthCheck === undefined ? '' : JSON.stringify([config.healthCheck, config.passiveHealthCheck]);
}

function sameSticky(a: StickySpec | null, b: StickySpec | null): boolean {
  return a === null || b === null ? a === b : a.cookie === b.cookie && a.attributes === b.attributes;
}

function sameServers(entry: Entry, config: LoadBalancerConfig, transportKey: string, sticky: StickySpec | null, pipelining: number | null): boolean {
  const servers = config.servers;
  if (entry.checks !== checksOf(config) || entry.transportKey !== transportKey || !sameSticky(entry.sticky, sticky) || entry.pipelining !== pipelining) return false;
  if (entry.passHostHeader !== (config.passHostHeader ?? true) || entry.specs.length !== servers.length) return false;
  for (let i = 0; i < servers.length; i++) {
    if (entry.specs[i].url !== servers[i].url || entry.specs[i].weight !== (servers[i].weight ?? 1)) return false;
  }
  return true;
}

export class LoadBalancerCompiler {
  private readonly entries = new Map<string, Entry>();
  private epoch = 0;

  constructor(private readonly serverSlots: SlotPool) {}

  /** Starts a compilation: every service it does not compile is dropped by end(). */
  begin(): void {
    this.epoch++;
    this.serverSlots.sweep();
  }

  /** Checks one service's servers; the error messages when a server is invalid. */
  compile(name: string, config: LoadBalancerConfig, transport: UpstreamTls | null = null): string[] {
    const known = this.entries.get(name);
    const transportKey = transport === null ? '' : JSON.stringify(transport);
    const sticky = config.sticky === undefined ? null : stickySpec(config.sticky.cookie, name);
    const pipelining = config.pipelining ?? transport?.pipelining ?? null;
    if (known !== undefined && sameServers(known, config, transportKey, sticky, pipelining)) {
      known.epoch = this.epoch;
      return [];
    }
    const errors: string[] = [];
    const specs: ServerSpec[] = [];
    for (const s of config.servers) {
      const p = parseServerUrl(s.url);
      if (typeof p === 'string') errors.push(p);
      // A literal, not a spread: V8 gives every object built by spreading plus extra keys its own hidden class (~200 B each).
      else specs.push({ url: p.url, host: p.host, port: p.port, tls: p.tls, weight: s.weight ?? 1, pathPrefix: s.preservePath === true ? p.path : '', slot: -1 });
    }
    if (errors.length > 0) {
      this.drop(name);
      return errors;
    }
    // A server the service already had keeps its slot (its in-flight count and health).
    const held = new Map<string, number>();
    for (const s of known?.specs ?? []) if (!held.has(s.url)) held.set(s.url, s.slot);
    for (const s of specs) {
      const slot = held.get(s.url);
      if (slot === undefined) {
        s.slot = this.serverSlots.allocate();
      } else {
        s.slot = slot;
        held.delete(s.url);
      }
    }
    for (const slot of held.values()) this.serverSlots.release(slot);
    this.entries.set(name, {
      passHostHeader: config.passHostHeader ?? true,
      healthCheck: config.healthCheck,
      passive: passiveLimits(config),
      checks: checksOf(config),
      transport,
      transportKey,
      sticky,
      pipelining,
      specs,
      order: weightedOrder(specs.map((s) => s.weight)),
      spec: null,
      epoch: this.epoch,
    });
    return [];
  }

  /** Ends a compilation: releases the slots of services it did not compile. */
  end(): void {
    for (const [name, entry] of this.entries) if (entry.epoch !== this.epoch) this.drop(name);
  }

  /** The spec of a service compiled without error; the same object while nothing about it changes. */
  spec(name: string, rr: number): LoadBalancerSpec {
    const entry = this.entries.get(name)!;
    if (entry.spec === null || entry.spec.rr !== rr) {
      entry.spec = {
        kind: 'lb',
        name,
        servers: entry.specs,
        transport: entry.transport,
        passHostHeader: entry.passHostHeader,
        rr,
        order: entry.order,
        passive: entry.passive,
        sticky: entry.sticky,
        pipelining: entry.pipelining,
      };
    }
    return entry.spec;
  }

  /** Every server of a service with an active health check, for the checker. */
  healthTargets(): HealthTarget[] {
    const out: HealthTarget[] = [];
    for (const [service, entry] of this.entries) {
      const check = entry.healthCheck;
      if (check === undefined) continue;
      for (const s of entry.specs) out.push({ slot: s.slot, service, url: s.url, host: s.host, port: s.port, tls: s.tls, transport: entry.transport, check });
    }
    return out;
  }

  private drop(name: string): void {
    const entry = this.entries.get(name);
    if (entry === undefined) return;
    for (const s of entry.specs) this.serverSlots.release(s.slot);
    this.entries.delete(name);
  }
}
