// Main thread: load balancer services -> LoadBalancerSpecs, remembered by
// service name across compilations.
//
// With 10,000 services of 4 replicas, re-parsing 40,000 server URLs and
// re-keying 40,000 server slots on every update was most of an update's cost.
// A service whose servers did not change keeps its spec object (and so its
// encoded line, see wire.ts); a changed one keeps the slots of the servers it
// still has, so in-flight counts and health stay attached to them.
import { weightedOrder } from '../balancer/wrr.js';
import type { LoadBalancerConfig } from '../dynamic/model.js';
import type { SlotAllocator } from './slots.js';
import type { LoadBalancerSpec, ServerSpec } from './spec.js';

interface Entry {
  servers: { url: string; weight: number }[];
  passHostHeader: boolean;
  specs: ServerSpec[];
  /** Server slot keys held by this entry. */
  keys: string[];
  order: number[];
  spec: LoadBalancerSpec | null;
  /** The compilation that last used it. */
  epoch: number;
}

export function serverKey(service: string, url: string): string {
  return `${service} ${url}`;
}

function parseServerUrl(raw: string): Omit<ServerSpec, 'weight' | 'slot'> | string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return `invalid server url ${JSON.stringify(raw)}`;
  }
  if (u.protocol !== 'http:') return `server url ${JSON.stringify(raw)}: only http:// upstreams are supported`;
  if (u.hostname === '') return `server url ${JSON.stringify(raw)} has no host`;
  if (u.pathname !== '/' && u.pathname !== '') return `server url ${JSON.stringify(raw)}: a path in a server url is not supported`;
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { url: raw, host, port: u.port === '' ? 80 : Number(u.port) };
}

function sameServers(entry: Entry, config: LoadBalancerConfig): boolean {
  const servers = config.servers;
  if (entry.passHostHeader !== (config.passHostHeader ?? true) || entry.servers.length !== servers.length) return false;
  for (let i = 0; i < servers.length; i++) {
    if (entry.servers[i].url !== servers[i].url || entry.servers[i].weight !== (servers[i].weight ?? 1)) return false;
  }
  return true;
}

export class LoadBalancerCompiler {
  private readonly entries = new Map<string, Entry>();
  private epoch = 0;

  constructor(private readonly serverSlots: SlotAllocator) {}

  /** Starts a compilation: every service it does not compile is dropped by end(). */
  begin(): void {
    this.epoch++;
    this.serverSlots.sweep();
  }

  /** Checks one service's servers; the error messages when a server is invalid. */
  compile(name: string, config: LoadBalancerConfig): string[] {
    const known = this.entries.get(name);
    if (known !== undefined && sameServers(known, config)) {
      known.epoch = this.epoch;
      return [];
    }
    const errors: string[] = [];
    const specs: ServerSpec[] = [];
    for (const s of config.servers) {
      const p = parseServerUrl(s.url);
      if (typeof p === 'string') errors.push(p);
      else specs.push({ ...p, weight: s.weight ?? 1, slot: -1 });
    }
    if (errors.length > 0) {
      this.drop(name);
      return errors;
    }
    const keys = specs.map((s) => serverKey(name, s.url));
    for (let i = 0; i < specs.length; i++) specs[i].slot = this.serverSlots.take(keys[i]);
    if (known !== undefined) {
      const kept = new Set(keys);
      for (const k of known.keys) if (!kept.has(k)) this.serverSlots.release(k);
    }
    this.entries.set(name, {
      servers: config.servers.map((s) => ({ url: s.url, weight: s.weight ?? 1 })),
      passHostHeader: config.passHostHeader ?? true,
      specs,
      keys,
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
      entry.spec = { kind: 'lb', name, servers: entry.specs, passHostHeader: entry.passHostHeader, rr, order: entry.order };
    }
    return entry.spec;
  }

  private drop(name: string): void {
    const entry = this.entries.get(name);
    if (entry === undefined) return;
    for (const k of entry.keys) this.serverSlots.release(k);
    this.entries.delete(name);
  }
}
