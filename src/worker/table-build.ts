// Builds a worker's RouteTable from the shared buffer's lines (table/wire.ts)
// in slices of a few milliseconds, while the previous table keeps serving.
//
// A line whose bytes equal the previous version's line for the same name
// reuses what was built for it (its compiled rule, its load balancer bound to
// this worker's pools, often its route entry) without being decoded. Little is
// allocated for unchanged lines, which matters as much as CPU: with thousands
// of routers, garbage collection pauses were what held the event loop longest.
import { compileRule } from '../rules/index.js';
import type { Matcher } from '../rules/types.js';
import { buildMiddlewares } from '../middlewares/pipeline.js';
import type { RequestStage, RetrySpec } from '../middlewares/types.js';
import type { RouterRecord, ServiceRecord, TableHeader, WeightedRecord } from '../table/wire.js';
import type { ServerPool } from '../upstream/pool.js';
import type { MiddlewareMemory } from '../middlewares/shared-memory.js';
import type { LoadBalancerRuntime, ServerRuntime, ServiceRuntime, WeightedRuntime } from '../balancer/runtime.js';
import { pickServer } from '../balancer/pick.js';
import type { SharedState } from '../shared/shared-state.js';
import {
  lbRuntime,
  RouteIndex,
  type PoolRegistry,
  type RouteEntry,
  type PlacedEntry,
  type RouteTable,
} from './routes.js';

/** Lines between two clock reads. */
const CHECK_EVERY = 32;
const NEWLINE = 10;
const TAB = 9;

type BuiltService = { kind: 'lb'; runtime: LoadBalancerRuntime; pools: ServerPool[] } | { kind: 'weighted'; record: WeightedRecord };

interface BuiltRouter extends PlacedEntry {
  name: string;
  priority: number;
  retry: RetrySpec | null;
  service: string;
  match: Matcher;
  request: RequestStage[] | null;
  /** Pools its middlewares asked for (forwardAuth's address): kept while it is in the table. */
  pools: ServerPool[];
}

/** Where a line's record sat in its version's bytes, and what was built from it. */
interface Line<T> {
  start: number;
  end: number;
  built: T;
}

interface Built {
  bytes: Buffer;
  services: Map<string, Line<BuiltService>>;
  routers: Map<string, Line<BuiltRouter>>;
}

/**
 * A literal rather than `{ ...r, entry }`: V8 gives every object made by a
 * spread plus extra keys a hidden class of its own, ~200 B per router.
 */
function withEntry(r: Omit<BuiltRouter, 'entry'>, entry: RouteEntry): BuiltRouter {
  return { name: r.name, priority: r.priority, retry: r.retry, service: r.service, match: r.match, request: r.request, pools: r.pools, entryPoints: r.entryPoints, hosts: r.hosts, twinKey: r.twinKey, entry };
}

/** One per worker: keeps what the last completed version built, by name. */
export class TableBuilder {
  private last: Built = { bytes: Buffer.alloc(0), services: new Map(), routers: new Map() };

  /** The services of the last completed version, by name: where middlewares' own requests go (errors pages). */
  private services: ReadonlyMap<string, ServiceRuntime> = new Map();
  /** Set by the worker: a middleware's server is picked with the shared state, as for proxied requests. */
  state: SharedState | null = null;

  constructor(
    private readonly pools: PoolRegistry,
    private readonly memory: MiddlewareMemory,
  ) {}

  /** A server of a service of the serving table, picked as its balancer picks, or null. */
  private readonly server = (service: string): ServerRuntime | null => {
    const s = this.services.get(service);
    return s === undefined || this.state === null ? null : pickServer(s, this.state, null);
  };

  /** Starts building `bytes` (one encoded version); drive it with step(). */
  begin(generation: number, bytes: Uint8Array): TableBuild {
    return new TableBuild(generation, bytes, this.last, this.pools, this.memory, this.server, (built, services) => {
      this.last = built;
      this.services = services;
    });
  }

  /** Builds a whole version at once (start-up, tests). */
  buildNow(generation: number, bytes: Uint8Array): RouteTable {
    const build = this.begin(generation, bytes);
    build.step(Infinity);
    return build.result!;
  }
}

export class TableBuild {
  /** Set once step() has returned true. */
  result: RouteTable | null = null;
  /** The longest step() so far: how long the build held the event loop at once. */
  longestSliceMs = 0;
  private readonly bytes: Buffer;
  private pos = 0;
  private header: TableHeader | null = null;
  private servicesLeft = 0;
  private routersLeft = 0;
  private readonly next: Built;
  private readonly byName = new Map<string, ServiceRuntime>();
  private readonly weighted: { runtime: WeightedRuntime; record: WeightedRecord }[] = [];
  private readonly used = new Set<ServerPool>();
  private readonly index = new RouteIndex();

  constructor(
    readonly generation: number,
    bytes: Uint8Array,
    private readonly previous: Built,
    private readonly pools: PoolRegistry,
    private readonly memory: MiddlewareMemory,
    private readonly server: (service: string) => ServerRuntime | null,
    private readonly done: (built: Built, services: ReadonlyMap<string, ServiceRuntime>) => void,
  ) {
    this.bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.next = { bytes: this.bytes, services: new Map(), routers: new Map() };
  }

  /** Works until `deadline` (performance.now() time); true once the table is built. Throws on a malformed version. */
  step(deadline: number): boolean {
    const t0 = performance.now();
    try {
      return this.work(deadline);
    } finally {
      this.longestSliceMs = Math.max(this.longestSliceMs, performance.now() - t0);
    }
  }

  private work(deadline: number): boolean {
    if (this.result !== null) return true;
    for (let n = 1; ; n++) {
      if (this.header === null) {
        const end = this.lineEnd();
        this.header = JSON.parse(this.bytes.toString('utf8', this.pos, end)) as TableHeader;
        this.pos = end + 1;
        this.servicesLeft = this.header.services;
        this.routersLeft = this.header.routers;
        if (this.servicesLeft === 0) this.linkWeighted();
      } else if (this.servicesLeft > 0) {
        this.addService();
        if (--this.servicesLeft === 0) this.linkWeighted();
      } else if (this.routersLeft > 0) {
        this.addRouter();
        this.routersLeft--;
      } else {
        this.pools.retain(this.used);
        this.result = this.index.finish(this.header.version);
        this.done(this.next, this.byName);
        return true;
      }
      if (n % CHECK_EVERY === 0 && performance.now() >= deadline) return false;
    }
  }

  private lineEnd(): number {
    if (this.pos >= this.bytes.length) throw new Error(`table ${this.generation} ends early`);
    const nl = this.bytes.indexOf(NEWLINE, this.pos);
    return nl === -1 ? this.bytes.length : nl;
  }

  /**
   * Takes the next line: its name key, and the previous version's build when
   * the record's bytes are the same. The key is the name's JSON encoding read
   * as latin1: one byte per character, cheap, and distinct for distinct names.
   */
  private take<T>(cache: ReadonlyMap<string, Line<T>>): { key: string; start: number; end: number; same: T | undefined } {
    const end = this.lineEnd();
    const tab = this.bytes.indexOf(TAB, this.pos);
    if (tab === -1 || tab > end) throw new Error(`table ${this.generation}: a line has no name`);
    const key = this.bytes.toString('latin1', this.pos, tab);
    const start = tab + 1;
    this.pos = end + 1;
    const old = cache.get(key);
    const same = old !== undefined && old.end - old.start === end - start && this.bytes.compare(this.previous.bytes, old.start, old.end, start, end) === 0 ? old.built : undefined;
    return { key, start, end, same };
  }

  private record(start: number, end: number): unknown {
    return JSON.parse(this.bytes.toString('utf8', start, end));
  }

  private addService(): void {
    const { key, start, end, same } = this.take(this.previous.services);
    let built = same;
    // A reused load balancer must not hold a pool that was retired meanwhile.
    if (built?.kind === 'lb' && built.pools.some((p) => p.isRetired)) built = undefined;
    if (built === undefined) {
      const record = this.record(start, end) as ServiceRecord;
      if (record.kind === 'lb') {
        const runtime = lbRuntime(record, this.pools);
        built = { kind: 'lb', runtime, pools: [...new Set(runtime.servers.map((s) => s.pool))] };
      } else {
        built = { kind: 'weighted', record };
      }
    }
    this.next.services.set(key, { start, end, built });
    if (built.kind === 'lb') {
      this.byName.set(built.runtime.name, built.runtime);
      for (const p of built.pools) this.used.add(p);
    } else {
      // Fresh each version: its children are other services' runtimes, which may have changed.
      const { record } = built;
      const sticky = record.sticky;
      const runtime: WeightedRuntime = {
        kind: 'weighted',
        name: record.name,
        children: [],
        rr: record.rr,
        order: record.order,
        sticky:
          sticky === null
            ? null
            : { cookie: sticky.cookie, byValue: new Map(sticky.values.map((v, i) => [v, i])), setCookies: sticky.values.map((v) => `${sticky.cookie}=${v}${sticky.attributes}`) },
        usesCookies: sticky !== null,
      };
      this.byName.set(record.name, runtime);
      this.weighted.push({ runtime, record });
    }
  }

  private entry(r: Pick<BuiltRouter, 'name' | 'priority' | 'match' | 'request' | 'retry'>, service: ServiceRuntime): RouteEntry {
    return { name: r.name, priority: r.priority, match: r.match, request: r.request, services: [service], retry: r.retry };
  }

  private linkWeighted(): void {
    for (const { runtime, record } of this.weighted) runtime.children = record.children.map((name) => this.service(name));
    // Children are linked first: a weighted service may sit below another.
    const uses = (s: ServiceRuntime): boolean => s.usesCookies || (s.kind === 'weighted' && s.children.some(uses));
    for (const { runtime } of this.weighted) runtime.usesCookies = uses(runtime);
  }

  private service(name: string): ServiceRuntime {
    const s = this.byName.get(name);
    if (s === undefined) throw new Error(`table ${this.generation}: unknown service ${JSON.stringify(name)}`);
    return s;
  }

  private addRouter(): void {
    const { key, start, end, same } = this.take(this.previous.routers);
    let built = same;
    // A reused router must not hold a pool that was retired meanwhile.
    if (built !== undefined && built.pools.some((p) => p.isRetired)) built = undefined;
    if (built === undefined) {
      const r = this.record(start, end) as RouterRecord;
      // The main thread already compiled every rule; a failure here would be a bug, so it throws.
      const compiled = compileRule(r.rule, r.syntax);
      const pools: ServerPool[] = [];
      const mw = buildMiddlewares(r.middlewares, {
        memory: this.memory,
        server: this.server,
        pool: (host, port, tls) => {
          const p = this.pools.get(host, port, tls);
          pools.push(p);
          return p;
        },
      });
      const parts: Omit<BuiltRouter, 'entry'> = {
        name: r.name,
        priority: r.priority,
        retry: mw.retry,
        service: r.service,
        match: compiled.match,
        request: mw.request,
        pools,
        entryPoints: r.entryPoints,
        hosts: compiled.hosts,
        twinKey: `${r.priority}\0${r.syntax}\0${[...r.entryPoints].sort().join(',')}\0${r.rule}`,
      };
      built = withEntry(parts, this.entry(parts, this.service(r.service)));
    } else {
      // The last version's entry, while its service is the same object. Entries
      // are immutable once serving (the index copies twins before linking them).
      const service = this.service(built.service);
      if (built.entry.services[0] !== service) built = withEntry(built, this.entry(built, service));
    }
    this.next.routers.set(key, { start, end, built });
    for (const p of built.pools) this.used.add(p);
    this.index.add(built);
  }
}
