// Worker side of the route table: the structures the hot path reads (compiled
// matchers, a host hash index per entry point, services bound to this
// worker's connection pools). table-build.ts fills them from the shared buffer.
import type { LoadBalancerRuntime, ServerRuntime, ServiceRuntime } from '../balancer/runtime.js';
import { stickyValue } from '../balancer/sticky.js';
import type { Matcher, RequestView } from '../rules/types.js';
import type { RequestStage, RetrySpec } from '../middlewares/types.js';
import type { LoadBalancerSpec, UpstreamTls } from '../table/spec.js';
import type { PoolOptions } from '../upstream/pool.js';
import { ServerPool } from '../upstream/pool.js';

export interface RouteEntry {
  name: string;
  priority: number;
  match: Matcher;
  /** Its middlewares' request stages in chain order; null when it has none (the common case costs nothing). */
  request: RequestStage[] | null;
  /**
   * The router's service first, then the services of its twins: routers with
   * the same rule and priority, as two stacks of a blue-green deployment have.
   * Requests fall back along this list while a service has no server that
   * answers, so a new stack whose tasks are still starting loses nothing.
   */
  services: ServiceRuntime[];
  /** The router's retry middleware, or null. */
  retry: RetrySpec | null;
}

interface EntryPointRoutes {
  byHost: Map<string, RouteEntry[]>;
  generic: RouteEntry[];
}

const NO_ROUTES: RouteEntry[] = [];

function byPriority(a: RouteEntry, b: RouteEntry): number {
  return b.priority - a.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** Keeps one pool per server address across table versions. */
export class PoolRegistry {
  private readonly pools = new Map<string, ServerPool>();

  constructor(private readonly options: PoolOptions) {}

  /**
   * `tls`: false for http://; for https://, true (the static settings) or the
   * service's servers transport. `pipelining`: the service's depth, null for
   * the static setting.
   */
  get(host: string, port: number, tls: boolean | UpstreamTls, pipelining: number | null = null): ServerPool {
    // A transport's settings are part of the key: changed settings mean new connections.
    const address = tls === false ? `${host}:${port}` : tls === true ? `https://${host}:${port}` : `https://${host}:${port}#${JSON.stringify(tls)}`;
    const key = pipelining === null ? address : `${address}|pipelining=${pipelining}`;
    let pool = this.pools.get(key);
    if (pool === undefined || pool.isRetired) {
      const options = pipelining === null ? this.options : { ...this.options, pipelining };
      pool = new ServerPool(host, port, tls === false ? null : tls === true ? this.options.tls : tls, options);
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Retires pools no longer used by the table. */
  retain(used: Set<ServerPool>): void {
    for (const [key, pool] of this.pools) {
      if (!used.has(pool)) {
        pool.retire();
        this.pools.delete(key);
      }
    }
  }

  sweep(now: number): void {
    for (const pool of this.pools.values()) pool.sweep(now);
  }

  all(): IterableIterator<ServerPool> {
    return this.pools.values();
  }
}

/** Routers of one table version, indexed for matching. Built by RouteIndex. */
export class RouteTable {
  constructor(
    readonly version: number,
    private readonly entryPoints: ReadonlyMap<string, EntryPointRoutes>,
  ) {}

  /** How many routers a request for `host` is tested against (the hash index at work). */
  candidateCount(entryPoint: string, host: string): number {
    const routes = this.entryPoints.get(entryPoint);
    return routes === undefined ? 0 : (routes.byHost.get(host)?.length ?? 0) + routes.generic.length;
  }

  /** Highest-priority router on the entry point whose rule matches. */
  match(entryPoint: string, req: RequestView): RouteEntry | null {
    const routes = this.entryPoints.get(entryPoint);
    if (routes === undefined) return null;
    const a = routes.byHost.get(req.host) ?? NO_ROUTES;
    const b = routes.generic;
    let i = 0;
    let j = 0;
    // Merge the two priority-sorted lists; the first match wins.
    while (i < a.length || j < b.length) {
      const next = j >= b.length || (i < a.length && byPriority(a[i], b[j]) <= 0) ? a[i++] : b[j++];
      if (next.match(req)) return next;
    }
    return null;
  }
}

/** What indexing needs to know of a router beyond its RouteEntry. */
export interface RouterPlacement {
  entryPoints: readonly string[];
  /** Host names the rule can only match, or null when it may match any host. */
  hosts: readonly string[] | null;
  /** Equal for routers with the same rule, syntax, priority and entry points. */
  twinKey: string;
}

/** A router as indexed: its placement and this version's entry. */
export interface PlacedEntry extends RouterPlacement {
  entry: RouteEntry;
}

/** Collects a version's routers one at a time, then sorts and links them once. */
export class RouteIndex {
  private readonly entryPoints = new Map<string, EntryPointRoutes>();
  /** By twin key: the first router with it, then all of them once a second arrives (rare: blue-green stacks). */
  private readonly twins = new Map<string, PlacedEntry | PlacedEntry[]>();

  /** `at.entry` may be shared with the serving table: the index never changes it. */
  add(at: PlacedEntry): void {
    const seen = this.twins.get(at.twinKey);
    if (seen === undefined) this.twins.set(at.twinKey, at);
    else if (Array.isArray(seen)) seen.push(at);
    else this.twins.set(at.twinKey, [seen, at]);
    for (const list of this.lists(at, true)) list.push(at.entry);
  }

  finish(version: number): RouteTable {
    for (const group of this.twins.values()) {
      if (!Array.isArray(group)) continue;
      // Twins fall back to each other's services: fresh entries, linked.
      const fresh = group.map((at) => {
        const { name, priority, match, request, retry } = at.entry;
        const copy: RouteEntry = { name, priority, match, request, services: [at.entry.services[0]], retry };
        for (const list of this.lists(at, false)) list[list.indexOf(at.entry)] = copy;
        return copy;
      });
      fresh.sort(byPriority);
      for (const e of fresh) for (const t of fresh) if (t !== e && !e.services.includes(t.services[0])) e.services.push(t.services[0]);
    }
    for (const routes of this.entryPoints.values()) {
      routes.generic.sort(byPriority);
      for (const list of routes.byHost.values()) if (list.length > 1) list.sort(byPriority);
    }
    return new RouteTable(version, this.entryPoints);
  }

  /** The lists a router belongs in: its hosts' (or the generic one) on each of its entry points. */
  private *lists(at: RouterPlacement, create: boolean): Generator<RouteEntry[]> {
    for (const ep of at.entryPoints) {
      let routes = this.entryPoints.get(ep);
      if (routes === undefined) {
        if (!create) continue;
        routes = { byHost: new Map(), generic: [] };
        this.entryPoints.set(ep, routes);
      }
      if (at.hosts === null) {
        yield routes.generic;
        continue;
      }
      for (const h of at.hosts) {
        let list = routes.byHost.get(h);
        if (list === undefined) {
          if (!create) continue;
          list = [];
          routes.byHost.set(h, list);
        }
        yield list;
      }
    }
  }
}

export function lbRuntime(s: LoadBalancerSpec, pools: PoolRegistry): LoadBalancerRuntime {
  const sticky = s.sticky;
  const servers = s.servers.map((srv): ServerRuntime => {
      const pool = pools.get(srv.host, srv.port, srv.tls && (s.transport ?? true), s.pipelining);
      return {
        url: srv.url,
        slot: srv.slot,
        pool,
        // One string per address, not per server of every service.
        authority: pool.authority,
        pathPrefix: srv.pathPrefix ?? '',
        passHostHeader: s.passHostHeader,
        service: s.rr,
        serviceName: s.name,
        passive: s.passive,
        stickyCookie: sticky === null ? null : `${sticky.cookie}=${stickyValue(srv.url)}${sticky.attributes}`,
      };
  });
  return {
    kind: 'lb',
    name: s.name,
    passHostHeader: s.passHostHeader,
    rr: s.rr,
    order: s.order,
    servers,
    sticky: sticky === null ? null : { cookie: sticky.cookie, byValue: new Map(s.servers.map((srv, i) => [stickyValue(srv.url), servers[i]!])) },
    usesCookies: sticky !== null,
  };
}
