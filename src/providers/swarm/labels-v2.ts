// Traefik v2/v3 labels (`traefik.http.routers.<r>.*`, `traefik.http.services.<s>.*`,
// `traefik.http.middlewares.<m>.*`) read into element specs.
//
// As Traefik's label parser (paerser) does: keys match in any case at every
// level, element names keep the spelling of the first label in sorted order
// ("traefik.http.routers.Web.rule" and "...routers.web.priority" are one
// router "Web"), list values are split on commas and trimmed, an empty value
// for a string field means "not set", and `tls=false` on a router means no TLS.
// Values are checked by the file provider's normalizer (normalize.ts), fed
// the nested object these labels describe.
import { byteOrder, goBool, LabelProblem, splitList, type Leaf, type MiddlewareSpec, type RouterSpec, type ServerLabels, type ServiceSpec, type SpecSet } from './labels-common.js';
import type { TcpUdpKind } from '../../dynamic/model.js';

interface Entry {
  key: string;
  /** Segments after `traefik.http.<section>.<name>`. */
  path: string[];
  value: string;
}

interface Group {
  name: string;
  entries: Entry[];
  problem?: LabelProblem;
}

const SERVER_FIELDS: Record<string, keyof ServerLabels> = {
  port: 'port',
  scheme: 'scheme',
  url: 'url',
  weight: 'weight',
  preservepath: 'preservePath',
};

/** Service sections Traefik never reads from labels (tagged label:"-"). */
const NOT_FROM_LABELS = ['weighted', 'mirroring', 'failover', 'highestrandomweight'];

/** True for labels this reader handles (and that make a service use it). */
export function isV2Label(lowerKey: string): boolean {
  return /^traefik\.(http|tcp|udp|tls)\./.test(lowerKey);
}

function group(groups: Map<string, Group>, name: string): Group {
  const lower = name.toLowerCase();
  let g = groups.get(lower);
  if (g === undefined) {
    g = { name, entries: [] };
    groups.set(lower, g);
  }
  return g;
}

function routerSpec(g: Group): RouterSpec {
  const leaves: Leaf[] = [];
  for (const { key, path, value } of g.entries) {
    const field = path[0].toLowerCase();
    const scalar = path.length === 1;
    if (scalar && ['rule', 'rulesyntax', 'service'].includes(field) && value.trim() === '') continue;
    if (scalar && (field === 'entrypoints' || field === 'middlewares')) {
      if (value === '') continue;
      leaves.push({ label: key, path, value: splitList(value) });
    } else if (scalar && field === 'tls') {
      // `tls` alone is "allowEmpty": "true" enables it with defaults, anything else leaves it off.
      if (/^true$/i.test(value.trim())) leaves.push({ label: key, path, value: {} });
    } else {
      leaves.push({ label: key, path, value });
    }
  }
  // tls=true beside tls.certresolver (as Traefik's guides write it) says nothing more.
  const bareTls = leaves.findIndex((l) => l.path.length === 1 && l.path[0].toLowerCase() === 'tls');
  if (bareTls >= 0 && leaves.some((l) => l.path.length > 1 && l.path[0].toLowerCase() === 'tls')) leaves.splice(bareTls, 1);
  return { name: g.name, leaves, problem: g.problem };
}

function serviceSpec(g: Group, warnings: string[]): ServiceSpec {
  const spec: ServiceSpec = {
    name: g.name,
    leaves: [],
    server: {},
    portLabel: `traefik.http.services.${g.name}.loadbalancer.server.port`,
    problem: g.problem,
  };
  for (const { key, path, value } of g.entries) {
    const first = path[0].toLowerCase();
    if (first === 'loadbalancer') {
      if (path.length >= 2 && path[1].toLowerCase() === 'server') {
        const field = path.length === 3 ? SERVER_FIELDS[path[2].toLowerCase()] : undefined;
        if (field === undefined) {
          spec.problem ??= new LabelProblem(`unknown key (expected loadbalancer.server.{port,scheme,url,weight})`, key);
        } else if (spec.server[field] !== undefined) {
          spec.problem ??= new LabelProblem(`also set by label "${spec.server[field]!.label}"`, key);
        } else {
          spec.server[field] = { label: key, path: [field], value };
        }
        continue;
      }
      if (path.length >= 2 && path[1].toLowerCase() === 'servers') {
        spec.problem ??= new LabelProblem('unknown key (labels set one server with loadbalancer.server.*)', key);
        continue;
      }
      const isBool = path.length === 2 && path[1].toLowerCase() === 'passhostheader';
      spec.leaves.push({ label: key, path: ['loadBalancer', ...path.slice(1)], value: isBool ? goBool(value) ?? value : value });
    } else if (NOT_FROM_LABELS.includes(first)) {
      warnings.push(`label "${key}" ignored: Traefik does not read ${path[0]} services from labels (use the file provider)`);
    } else if (first === 'middlewares') {
      spec.problem ??= new LabelProblem('service-level middlewares are not supported by portero (put them on the router)', key);
    } else {
      spec.problem ??= new LabelProblem(`unknown key "${path[0]}" (expected loadbalancer)`, key);
    }
  }
  return spec;
}

const TCP_UDP_KINDS: Record<string, TcpUdpKind> = {
  'tcp.routers': 'tcpRouter',
  'tcp.services': 'tcpService',
  'tcp.middlewares': 'tcpMiddleware',
  'udp.routers': 'udpRouter',
  'udp.services': 'udpService',
};

/** The TCP/UDP element a label belongs to ("traefik.tcp.routers.db.rule" -> tcpRouter "db"), or null. */
function tcpUdpElement(key: string): { kind: TcpUdpKind; name: string } | null {
  const parts = key.split('.');
  const kind = TCP_UDP_KINDS[`${parts[1]}.${parts[2]}`.toLowerCase()];
  if (kind === undefined || parts.length < 5 || parts[3] === '') return null;
  return { kind, name: parts[3]! };
}

/**
 * Reads the v2/v3 labels of one Swarm service. `base` is the service's
 * Traefik name, used for the default router and service.
 */
export function readV2Labels(labels: Readonly<Record<string, string>>, base: string): SpecSet {
  const set: SpecSet = { routers: [], services: [], middlewares: [], problems: [], warnings: [], tcpUdp: [] };
  const sections = { routers: new Map<string, Group>(), services: new Map<string, Group>(), middlewares: new Map<string, Group>() };
  let http = false;
  const ignored: string[] = [];

  for (const key of Object.keys(labels).sort(byteOrder)) {
    const lower = key.toLowerCase();
    if (!isV2Label(lower)) continue;
    if (!lower.startsWith('traefik.http.')) {
      ignored.push(key);
      const element = tcpUdpElement(key);
      if (element !== null && !set.tcpUdp.some((e) => e.kind === element.kind && e.name === element.name)) set.tcpUdp.push(element);
      continue;
    }
    http = true;
    const parts = key.split('.');
    const section = (parts[2] ?? '').toLowerCase();
    if (section === 'serverstransports') {
      set.warnings.push(`label "${key}" ignored: servers transports are not supported by portero`);
      continue;
    }
    if (section !== 'routers' && section !== 'services' && section !== 'middlewares') {
      set.problems.push(new LabelProblem(`unknown section "${parts[2]}" (expected routers, services or middlewares); ignored`, key));
      continue;
    }
    if (parts.length < 4 || parts[3] === '') {
      set.problems.push(new LabelProblem(`names no ${section.slice(0, -1)}; ignored`, key));
      continue;
    }
    const g = group(sections[section], parts[3]);
    const path = parts.slice(4);
    if (path.length === 0) g.problem ??= new LabelProblem('sets no field (expected e.g. ".rule")', key);
    else if (path.includes('')) g.problem ??= new LabelProblem('has an empty segment ("..")', key);
    else g.entries.push({ key, path, value: labels[key] });
  }

  if (ignored.length > 0) {
    set.warnings.push(`labels ${ignored.map((k) => JSON.stringify(k)).join(', ')} ignored: portero routes HTTP only (no TCP/UDP routers, no TLS stores)`);
    // Traefik creates no default HTTP router/service for a TCP/UDP-only container.
    if (!http) return set;
  }

  for (const g of sections.services.values()) set.services.push(serviceSpec(g, set.warnings));
  for (const g of sections.middlewares.values()) {
    const spec: MiddlewareSpec = { name: g.name, leaves: g.entries.map((e) => ({ label: e.key, path: e.path, value: e.value })), problem: g.problem };
    set.middlewares.push(spec);
  }
  for (const g of sections.routers.values()) set.routers.push(routerSpec(g));

  if (set.services.length === 0) {
    set.services.push({
      name: base,
      leaves: [],
      server: {},
      portLabel: `traefik.http.services.${base}.loadbalancer.server.port`,
      portHint: 'or traefik.port with Traefik v1 labels',
    });
  }
  if (set.routers.length === 0) {
    if (set.services.length > 1) {
      set.warnings.push(`no default router: several services (${set.services.map((s) => JSON.stringify(s.name)).join(', ')}) and no router labels`);
    } else {
      set.routers.push({ name: base, leaves: [] });
    }
  }

  // A router without `service` uses the only service.
  for (const r of set.routers) {
    if (r.leaves.some((l) => l.path.length === 1 && l.path[0].toLowerCase() === 'service')) continue;
    if (set.services.length === 1) {
      r.leaves.push({ label: '', path: ['service'], value: set.services[0].name });
    } else {
      r.unlinked = new LabelProblem(
        `cannot be linked automatically to one of several services (${set.services.map((s) => JSON.stringify(s.name)).join(', ')}): set traefik.http.routers.${r.name}.service`,
      );
    }
  }
  return set;
}
