// Elements from all Swarm services, merged by name as in Traefik's
// provider.Merge: identical routers and middlewares are kept once, services
// with the same options pool their servers (so two stacks can share one
// service during a blue-green deploy), and different definitions of one name
// disable it. A router whose service was disabled is disabled too, with an
// error that says so rather than "unknown service".
//
// The values added are one Swarm service's built elements, which labels.ts
// keeps between syncs: they are never modified here. Pooling servers copies.
import { isDeepStrictEqual } from 'node:util';
import type { ConfigError, DynamicConfig, MiddlewareConfig, RouterConfig, ServiceConfig } from '../../dynamic/model.js';
import { byteOrder } from './labels-common.js';

export type Kind = 'router' | 'service' | 'middleware';

const PROVIDER = 'swarm';

interface Entry<T> {
  value: T;
  origins: string[];
  conflict: boolean;
  /** `value` is this merge's own copy (servers were pooled into it). */
  own: boolean;
}

/** "<kind> "<name>" (Swarm service "<origin>"): <message>", the error of one disabled element. */
export function elementError(kind: Kind, name: string, origin: string, message: string): ConfigError {
  return { provider: PROVIDER, element: { kind, name }, message: `${kind} "${name}" (Swarm service "${origin}"): ${message}` };
}

export class Collector {
  readonly routers = new Map<string, Entry<RouterConfig>>();
  readonly services = new Map<string, Entry<ServiceConfig>>();
  readonly middlewares = new Map<string, Entry<MiddlewareConfig>>();
  /** HTTP services disabled by an error: their routers are disabled with them. */
  readonly failed = new Set<string>();

  constructor(private readonly errors: ConfigError[]) {}

  add(kind: Kind, name: string, origin: string, value: RouterConfig | ServiceConfig | MiddlewareConfig): void {
    const map = (kind === 'router' ? this.routers : kind === 'service' ? this.services : this.middlewares) as Map<string, Entry<unknown>>;
    const entry = map.get(name);
    if (entry === undefined) {
      map.set(name, { value, origins: [origin], conflict: false, own: false });
      return;
    }
    entry.origins.push(origin);
    if (kind === 'service') {
      const mine = (entry.value as ServiceConfig).loadBalancer!;
      const theirs = (value as ServiceConfig).loadBalancer!;
      if (isDeepStrictEqual({ ...mine, servers: [] }, { ...theirs, servers: [] })) {
        const extra = theirs.servers.filter((s) => !mine.servers.some((m) => m.url === s.url));
        if (extra.length === 0) return;
        if (!entry.own) {
          entry.value = { ...(entry.value as ServiceConfig), loadBalancer: { ...mine, servers: [...mine.servers] } };
          entry.own = true;
        }
        (entry.value as ServiceConfig).loadBalancer!.servers.push(...extra);
        return;
      }
    } else if (isDeepStrictEqual(entry.value, value)) {
      return;
    }
    entry.conflict = true;
  }

  finish(config: DynamicConfig): void {
    const conflicts = (kind: Kind, map: Map<string, Entry<unknown>>): void => {
      const named = [...map].filter(([, entry]) => entry.conflict);
      for (const [name, entry] of named.sort(([a], [b]) => byteOrder(a, b))) {
        map.delete(name);
        if (kind === 'service') this.failed.add(name);
        const origins = [...new Set(entry.origins)].map((o) => JSON.stringify(o)).join(', ');
        this.errors.push({
          provider: PROVIDER,
          element: { kind, name },
          message: `${kind} "${name}": defined differently by Swarm services ${origins}; disabled until the definitions agree`,
        });
      }
    };
    conflicts('router', this.routers);
    conflicts('service', this.services);
    conflicts('middleware', this.middlewares);

    const out = config.http;
    for (const [name, entry] of [...this.services].sort(([a], [b]) => byteOrder(a, b))) out.services[name] = entry.value;
    for (const [name, entry] of [...this.middlewares].sort(([a], [b]) => byteOrder(a, b))) out.middlewares[name] = entry.value;
    for (const [name, entry] of [...this.routers].sort(([a], [b]) => byteOrder(a, b))) {
      const service = entry.value.service;
      if (service !== undefined && !service.includes('@') && !this.services.has(service) && this.failed.has(service)) {
        this.errors.push(elementError('router', name, entry.origins[0]!, `service "${service}" is disabled (see its error)`));
        continue;
      }
      out.routers[name] = entry.value;
    }
  }
}
