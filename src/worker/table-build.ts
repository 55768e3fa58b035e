// Builds a worker's RouteTable from the shared buffer's lines (table/wire.ts)
// in slices of a few milliseconds, while the previous table keeps serving.
//
// A line identical to one of the previous version reuses what was built for
// it: its compiled rule, or its load balancer bound to this worker's pools. So
// an update of one router among 10,000 compiles one rule, and no slice holds
// the event loop long enough to delay a request noticeably.
import { compileRule } from '../rules/index.js';
import type { Matcher } from '../rules/types.js';
import type { RouterRecord, ServiceRecord, TableHeader, WeightedRecord } from '../table/wire.js';
import type { ServerPool } from '../upstream/pool.js';
import { compileRewrites, type PathRewrite } from './rewrite.js';
import {
  lbRuntime,
  RouteIndex,
  type LoadBalancerRuntime,
  type PoolRegistry,
  type RouterPlacement,
  type RouteTable,
  type ServiceRuntime,
  type WeightedRuntime,
} from './routes.js';

/** Bytes decoded at a time: large enough to amortize the decoder, small enough for a slice. */
const CHUNK_BYTES = 64 * 1024;
/** Lines between two clock reads. */
const CHECK_EVERY = 32;
const NEWLINE = 10;

type BuiltService = { kind: 'lb'; runtime: LoadBalancerRuntime; pools: ServerPool[] } | { kind: 'weighted'; record: WeightedRecord };

interface BuiltRouter extends RouterPlacement {
  name: string;
  priority: number;
  service: string;
  match: Matcher;
  rewrite: PathRewrite | null;
}

interface Built {
  services: Map<string, BuiltService>;
  routers: Map<string, BuiltRouter>;
}

/** One per worker: keeps what the last completed version built, by line. */
export class TableBuilder {
  private last: Built = { services: new Map(), routers: new Map() };

  constructor(private readonly pools: PoolRegistry) {}

  /** Starts building `bytes` (one encoded version); drive it with step(). */
  begin(generation: number, bytes: Uint8Array): TableBuild {
    return new TableBuild(generation, bytes, this.last, this.pools, (built) => {
      this.last = built;
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
  private readonly decoder = new TextDecoder();
  private pos = 0;
  private lines: string[] = [];
  private lineAt = 0;
  private header: TableHeader | null = null;
  private servicesLeft = 0;
  private routersLeft = 0;
  private readonly next: Built = { services: new Map(), routers: new Map() };
  private readonly byName = new Map<string, ServiceRuntime>();
  private readonly weighted: { runtime: WeightedRuntime; record: WeightedRecord }[] = [];
  private readonly used = new Set<ServerPool>();
  private readonly index = new RouteIndex();

  constructor(
    readonly generation: number,
    private readonly bytes: Uint8Array,
    private readonly previous: Built,
    private readonly pools: PoolRegistry,
    private readonly done: (built: Built) => void,
  ) {}

  /** Works until `deadline` (performance.now() time); true once the table is built. Throws on a malformed version. */
  step(deadline: number): boolean {
    if (this.result !== null) return true;
    for (let n = 1; ; n++) {
      if (this.header === null) {
        this.header = JSON.parse(this.line()) as TableHeader;
        this.servicesLeft = this.header.services;
        this.routersLeft = this.header.routers;
        if (this.servicesLeft === 0) this.linkWeighted();
      } else if (this.servicesLeft > 0) {
        this.addService(this.line());
        if (--this.servicesLeft === 0) this.linkWeighted();
      } else if (this.routersLeft > 0) {
        this.addRouter(this.line());
        this.routersLeft--;
      } else {
        this.pools.retain(this.used);
        this.result = this.index.finish(this.header.version);
        this.done(this.next);
        return true;
      }
      if (n % CHECK_EVERY === 0 && performance.now() >= deadline) return false;
    }
  }

  private line(): string {
    if (this.lineAt === this.lines.length) {
      if (this.pos >= this.bytes.length) throw new Error(`table ${this.generation} ends early`);
      let end = Math.min(this.bytes.length, this.pos + CHUNK_BYTES);
      if (end < this.bytes.length) {
        const nl = this.bytes.indexOf(NEWLINE, end);
        end = nl === -1 ? this.bytes.length : nl;
      }
      this.lines = this.decoder.decode(this.bytes.subarray(this.pos, end)).split('\n');
      this.lineAt = 0;
      this.pos = end + 1;
    }
    return this.lines[this.lineAt++];
  }

  private addService(line: string): void {
    let built = this.previous.services.get(line);
    // A reused load balancer must not hold a pool that was retired meanwhile.
    if (built?.kind === 'lb' && built.pools.some((p) => p.isRetired)) built = undefined;
    if (built === undefined) {
      const record = JSON.parse(line) as ServiceRecord;
      if (record.kind === 'lb') {
        const runtime = lbRuntime(record, this.pools);
        built = { kind: 'lb', runtime, pools: [...new Set(runtime.servers.map((s) => s.pool))] };
      } else {
        built = { kind: 'weighted', record };
      }
    }
    this.next.services.set(line, built);
    if (built.kind === 'lb') {
      this.byName.set(built.runtime.name, built.runtime);
      for (const p of built.pools) this.used.add(p);
    } else {
      // Fresh each version: its children are other services' runtimes, which may have changed.
      const { record } = built;
      const runtime: WeightedRuntime = { kind: 'weighted', name: record.name, children: [], rr: record.rr, order: record.order };
      this.byName.set(record.name, runtime);
      this.weighted.push({ runtime, record });
    }
  }

  private linkWeighted(): void {
    for (const { runtime, record } of this.weighted) runtime.children = record.children.map((name) => this.service(name));
  }

  private service(name: string): ServiceRuntime {
    const s = this.byName.get(name);
    if (s === undefined) throw new Error(`table ${this.generation}: unknown service ${JSON.stringify(name)}`);
    return s;
  }

  private addRouter(line: string): void {
    let built = this.previous.routers.get(line);
    if (built === undefined) {
      const r = JSON.parse(line) as RouterRecord;
      // The main thread already compiled every rule; a failure here would be a bug, so it throws.
      const compiled = compileRule(r.rule, r.syntax);
      built = {
        name: r.name,
        priority: r.priority,
        service: r.service,
        match: compiled.match,
        rewrite: compileRewrites(compiled.rewrites),
        entryPoints: r.entryPoints,
        hosts: compiled.hosts,
        twinKey: `${r.priority}\0${r.syntax}\0${[...r.entryPoints].sort().join(',')}\0${r.rule}`,
      };
    }
    this.next.routers.set(line, built);
    // A fresh entry each version: twin linking appends to its services.
    this.index.add({ name: built.name, priority: built.priority, match: built.match, rewrite: built.rewrite, services: [this.service(built.service)] }, built);
  }
}
