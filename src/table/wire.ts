// The route table as bytes in the shared buffer: one record per line, each
// prefixed with its element's name (a JSON string) and a tab.
//
//   {"version":7,"services":2,"routers":1}                     header
//   "api@swarm"\t{"kind":"lb","name":"api@swarm",...}          one line per service
//   "api@swarm"\t{"name":"api@swarm","service":"api@swarm"}    one line per router
//
// Records name the services they use instead of pointing at an index, so a
// record's bytes change only when that element changes. A worker finds the
// previous version's line by the name before the tab (a JSON string never
// holds a raw tab) and, when the bytes are equal, reuses what it built for it
// without decoding anything: an update that touches one router among 10,000
// compiles one router and allocates little.
import type { LoadBalancerSpec, RouterSpec, ServiceSpec, TableSpec, WeightedSpec } from './spec.js';

export interface TableHeader {
  version: number;
  services: number;
  routers: number;
}

export type LoadBalancerRecord = LoadBalancerSpec;

export interface WeightedRecord {
  kind: 'weighted';
  name: string;
  /** Service names. */
  children: string[];
  rr: number;
  order: number[];
  sticky: WeightedSpec['sticky'];
}

export type ServiceRecord = LoadBalancerRecord | WeightedRecord;

export interface RouterRecord extends Omit<RouterSpec, 'service'> {
  /** The service's name. */
  service: string;
}

/** Encodes a table version as lines (no trailing newline). */
export function encodeTable(version: number, spec: Omit<TableSpec, 'version'>): string {
  const { services, routers } = spec;
  const lines = new Array<string>(1 + services.length + routers.length);
  lines[0] = JSON.stringify({ version, services: services.length, routers: routers.length } satisfies TableHeader);
  let i = 1;
  for (const s of services) lines[i++] = serviceLine(s, services);
  for (const r of routers) {
    const record: RouterRecord = { name: r.name, rule: r.rule, syntax: r.syntax, priority: r.priority, entryPoints: r.entryPoints, service: services[r.service].name, middlewares: r.middlewares };
    lines[i++] = `${JSON.stringify(r.name)}\t${JSON.stringify(record)}`;
  }
  return lines.join('\n');
}

// Load balancer specs are kept while unchanged (load-balancers.ts), so their
// lines are too: with thousands of services, encoding was a large share of an update.
const lbLines = new WeakMap<LoadBalancerSpec, string>();

function serviceLine(s: ServiceSpec, all: readonly ServiceSpec[]): string {
  if (s.kind !== 'lb') return `${JSON.stringify(s.name)}\t${JSON.stringify(serviceRecord(s, all))}`;
  let line = lbLines.get(s);
  if (line === undefined) {
    line = `${JSON.stringify(s.name)}\t${JSON.stringify(s satisfies LoadBalancerRecord)}`;
    lbLines.set(s, line);
  }
  return line;
}

function serviceRecord(s: ServiceSpec, all: readonly ServiceSpec[]): ServiceRecord {
  if (s.kind === 'lb') return s;
  return { kind: 'weighted', name: s.name, children: s.children.map((c) => all[c].name), rr: s.rr, order: s.order, sticky: s.sticky };
}

/** Decodes a whole encoded table (tests, tools); workers decode incrementally instead. */
export function decodeTable(text: string): { header: TableHeader; services: ServiceRecord[]; routers: RouterRecord[] } {
  const lines = text.split('\n');
  const header = JSON.parse(lines[0]) as TableHeader;
  const record = (line: string): unknown => JSON.parse(line.slice(line.indexOf('\t') + 1));
  return {
    header,
    services: lines.slice(1, 1 + header.services).map((l) => record(l) as ServiceRecord),
    routers: lines.slice(1 + header.services, 1 + header.services + header.routers).map((l) => record(l) as RouterRecord),
  };
}
