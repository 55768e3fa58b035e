// The API of the `traefik` entry point, with Traefik's paths and JSON shapes
// (pkg/api in Traefik v3): /api/rawdata, /api/overview, /api/version,
// /api/entrypoints[/{name}], /api/http/{routers,services,middlewares}[/{name}]
// with page/per_page (X-Next-Page), search/status/serviceName/middlewareName
// filters and sortBy/direction. Names in paths are URL-encoded
// ("whoami%40file" or "whoami@file"). portero adds /api/providers (the state
// of each provider) and /api/traffic (live per-service counts, once they
// exist; see traffic.ts).
//
// Everything is computed here, on request, from what the main thread already
// holds; nothing is maintained for the API on the path of proxied traffic.
import type { EntryPointConfig } from '../config/static.js';
import type { ConfigError } from '../dynamic/model.js';
import { buildRuntime, elementType, providerOf, type MiddlewareInfo, type RouterInfo, type Runtime, type ServiceInfo, type Status } from './runtime.js';
import type { ApiSources, ProviderFacts } from './sources.js';
import { TCP_UDP_SECTIONS, tcpUdpRepresentations, tcpUdpRuntime } from './tcp-udp.js';
import { trafficReport } from './traffic.js';
import { describeCertificate, type CertificateRepresentation } from './certificates.js';
import { porteroVersion } from './version.js';
import { Int64, unwrapInt64 } from './internal.js';

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

// Traefik's exact header: clients (its own web UI included) compare it as is.
const JSON_TYPE = 'application/json';
export const NEXT_PAGE_HEADER = 'X-Next-Page';
const DEFAULT_PER_PAGE = 100;

function json(status: number, value: unknown, headers: Record<string, string> = {}): ApiResponse {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body: `${unwrapInt64(JSON.stringify(value))}\n` };
}

/** Traefik's error body: {"message": "..."}. */
function error(status: number, message: string, headers: Record<string, string> = {}): ApiResponse {
  return json(status, { message }, headers);
}

/** Answers a request under /api/, or returns null if the path is not an API path. */
export function handleApi(method: string, rawUrl: string, sources: ApiSources): ApiResponse | null {
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  if (path !== '/api' && !path.startsWith('/api/')) return null;
  if (method !== 'GET' && method !== 'HEAD') return error(405, `method not allowed: ${method}`, { allow: 'GET, HEAD' });
  const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
  const parts = path.slice('/api/'.length).split('/');
  let id: string | undefined;
  const last = parts.length - 1;
  const collection = (name: string) => parts.length === name.split('/').length && parts.join('/') === name;
  const element = (name: string) => {
    const n = name.split('/').length;
    if (parts.length !== n + 1 || parts.slice(0, n).join('/') !== name || parts[last] === '') return false;
    try {
      id = decodeURIComponent(parts[last]);
    } catch {
      id = undefined;
    }
    return true;
  };
  const badId = (what: string) => error(400, `unable to decode ${what}ID ${JSON.stringify(parts[last])}`);

  switch (path) {
    case '/api/rawdata':
      return json(200, rawData(sources));
    case '/api/overview':
      return json(200, overview(sources));
    case '/api/version':
      // disableDashboardAd: portero has no Hub for Traefik's web UI to advertise.
      return json(200, { Version: porteroVersion(), Codename: 'portero', startDate: sources.startDate, disableDashboardAd: true });
    case '/api/providers':
      return json(200, sources.providers().map(providerReport));
    case '/api/certificates':
      return list(query, certificates(sources), 'certificates');
    case '/api/portero':
      return json(200, porteroStatus(sources));
    case '/api/traffic':
      return json(200, trafficReport(sources.publisher.current?.spec.services ?? [], sources.serviceCounters));
  }
  if (element('certificates')) {
    const found = id === undefined ? undefined : certificates(sources).find((c) => c.name === id);
    return found === undefined ? error(404, `certificate not found: ${id ?? parts[last]}`) : json(200, found);
  }
  if (collection('entrypoints')) return list(query, entryPoints(sources), null);
  if (element('entrypoints')) {
    if (id === undefined) return badId('entryPoint');
    const ep = entryPoints(sources).find((e) => e.name === id);
    return ep === undefined ? error(404, `entry point not found: ${id}`) : json(200, ep);
  }
  for (const kind of ['routers', 'services', 'middlewares'] as const) {
    const base = `http/${kind}`;
    const singular = kind.slice(0, -1);
    if (collection(base)) return list(query, representations(kind, runtimeOf(sources)), kind);
    if (element(base)) {
      if (id === undefined) return badId(singular);
      const found = representations(kind, runtimeOf(sources), id);
      return found.length === 0 ? error(404, `${singular} not found: ${id}`) : json(200, found[0]);
    }
  }
  for (const [base, kind] of Object.entries(TCP_UDP_SECTIONS)) {
    const singular = base.split('/')[1]!.slice(0, -1);
    if (collection(base)) return list(query, tcpUdpRepresentations(tcpUdpRuntime(allProviderErrors(sources))[kind]), null);
    if (element(base)) {
      if (id === undefined) return badId(singular);
      const found = tcpUdpRepresentations(tcpUdpRuntime(allProviderErrors(sources))[kind], id);
      return found.length === 0 ? error(404, `${singular} not found: ${id}`) : json(200, found[0]);
    }
  }
  return error(404, `not found: ${path}`);
}

// ---- the runtime view and its representations --------------------------

function allProviderErrors(sources: ApiSources): ConfigError[] {
  return sources.providers().flatMap((p) => p.errors);
}

function runtimeOf(sources: ApiSources): Runtime {
  return buildRuntime(sources.publisher.current, sources.publisher.state, sources.servedEntryPoints, allProviderErrors(sources), sources.internal);
}

type Kind = 'routers' | 'services' | 'middlewares';

interface Named {
  name: string;
  provider: string;
  status: Status;
}

export type RouterRepresentation = RouterInfo & Named & { priorityStr?: string };
export type ServiceRepresentation = ServiceInfo & Named & { type?: string };
export type MiddlewareRepresentation = MiddlewareInfo & Named & { type?: string };

/** One kind's representations, all of them or (with `only`) the one of that name. */
function representations(kind: Kind, runtime: Runtime, only?: string): Named[] {
  const map: Map<string, RouterInfo | ServiceInfo | MiddlewareInfo> = runtime[kind];
  const entries: [string, RouterInfo | ServiceInfo | MiddlewareInfo][] =
    only === undefined ? [...map] : map.has(only) ? [[only, map.get(only)!]] : [];
  return entries.map(([name, info]) => {
    if (kind === 'routers') {
      const r = info as RouterInfo;
      // Traefik names the TLS options a TLS router uses, "default" when it names none.
      const tls = r.tls !== undefined ? { tls: { options: 'default', ...r.tls } } : {};
      return { ...r, ...tls, name, provider: providerOf(name), ...(r.priority !== undefined ? { priorityStr: String(r.priority) } : {}) };
    }
    const type = elementType(info);
    return { ...info, name, provider: providerOf(name), ...(type !== '' ? { type } : {}) };
  });
}

function rawData(sources: ApiSources): unknown {
  const runtime = runtimeOf(sources);
  const section = (map: Map<string, object>) => (map.size === 0 ? undefined : Object.fromEntries(map));
  const tcpUdp = tcpUdpRuntime(allProviderErrors(sources));
  return {
    routers: section(runtime.routers),
    middlewares: section(runtime.middlewares),
    services: section(runtime.services),
    tcpRouters: section(tcpUdp.tcpRouter),
    tcpMiddlewares: section(tcpUdp.tcpMiddleware),
    tcpServices: section(tcpUdp.tcpService),
    udpRouters: section(tcpUdp.udpRouter),
    udpServices: section(tcpUdp.udpService),
  };
}

/**
 * portero's own: the configuration generation the workers serve and every
 * problem found in it, in one list (Traefik has no such endpoint; its
 * rawdata has only the per-element `error`).
 */
function porteroStatus(sources: ApiSources): unknown {
  const compiled = sources.publisher.current;
  return {
    generation: sources.publisher.generation,
    errors: [...allProviderErrors(sources), ...(compiled?.errors ?? [])].map(({ definition: _, ...e }) => e),
    providers: sources.providers().map(providerReport),
  };
}

function sectionOf(map: Map<string, { status: Status }>): { total: number; warnings: number; errors: number } {
  let warnings = 0;
  let errors = 0;
  for (const v of map.values()) {
    if (v.status === 'disabled') errors++;
    else if (v.status === 'warning') warnings++;
  }
  return { total: map.size, warnings, errors };
}

function overview(sources: ApiSources): unknown {
  const runtime = runtimeOf(sources);
  const tcpUdp = tcpUdpRuntime(allProviderErrors(sources));
  const { file, swarm } = sources.config.providers;
  // In the order of Traefik's static Providers struct: Docker, Swarm, File.
  const providers = [...(swarm !== undefined ? [swarm.dialect === 'v3' ? 'Swarm' : 'Docker'] : []), ...(file !== undefined ? ['File'] : [])];
  return {
    http: { routers: sectionOf(runtime.routers), services: sectionOf(runtime.services), middlewares: sectionOf(runtime.middlewares) },
    tcp: { routers: sectionOf(tcpUdp.tcpRouter), services: sectionOf(tcpUdp.tcpService), middlewares: sectionOf(tcpUdp.tcpMiddleware) },
    udp: { routers: sectionOf(tcpUdp.udpRouter), services: sectionOf(tcpUdp.udpService) },
    features: {
      tracing: '',
      // The name of the configured backend's section, as Traefik prints it.
      metrics: sources.config.metrics?.prometheus !== undefined ? 'Prometheus' : '',
      accessLog: sources.config.accessLog !== undefined,
    },
    ...(providers.length > 0 ? { providers } : {}),
    certificates: certificatesSection(certificates(sources)),
  };
}

// ---- certificates ----------------------------------------------------------

function certificates(sources: ApiSources): CertificateRepresentation[] {
  const now = Date.now();
  const out: CertificateRepresentation[] = [];
  for (const pem of sources.certificates()) {
    const c = describeCertificate(pem, now);
    if (!out.some((o) => o.name === c.name)) out.push(c);
  }
  return out;
}

/** Traefik's overview section: expired certificates count as errors, those expiring within 30 days as warnings. */
function certificatesSection(certs: CertificateRepresentation[]): { total: number; warnings: number; errors: number } {
  return { total: certs.length, warnings: certs.filter((c) => c.status === 'warning').length, errors: certs.filter((c) => c.status === 'expired').length };
}

// ---- entry points ---------------------------------------------------------

/** A duration in Go's time.Duration text form ("10s", "1m30s", "250ms"), as Traefik prints them. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const sec = `${Number(s.toFixed(3))}s`;
  return h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec;
}

function entryPoints(sources: ApiSources): (Record<string, unknown> & { name: string })[] {
  return Object.values(sources.config.entryPoints)
    .map((ep: EntryPointConfig) => ({
      address: ep.address,
      transport: {
        lifeCycle: { graceTimeOut: goDuration(ep.graceTimeoutMs) },
        // Traefik omits a zero duration (no limit). The idle timeout is the one
        // in effect: uWebSockets.js's fixed 10 s, where Traefik's default is 3m0s.
        respondingTimeouts: {
          ...(ep.readTimeoutMs > 0 ? { readTimeout: goDuration(ep.readTimeoutMs) } : {}),
          idleTimeout: goDuration(CLIENT_IDLE_TIMEOUT_MS),
        },
      },
      forwardedHeaders: {
        ...(ep.forwardedHeadersInsecure ? { insecure: true } : {}),
        ...(ep.trustedIPs.length > 0 ? { trustedIPs: [...ep.trustedIPs] } : {}),
      },
      http: entryPointHttp(ep),
      name: ep.name,
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** uWebSockets.js closes a keep-alive client connection idle this long; this build has no setting for it. */
const CLIENT_IDLE_TIMEOUT_MS = 10_000;

/** Traefik's entry point `http` section: redirections, middlewares, tls, as set. */
function entryPointHttp(ep: EntryPointConfig): Record<string, unknown> {
  const http: Record<string, unknown> = {};
  if (ep.redirect !== undefined) {
    const { to, scheme, permanent, priority } = ep.redirect;
    http.redirections = { entryPoint: { to, scheme, permanent, priority } };
  }
  if (ep.middlewares !== undefined) http.middlewares = [...ep.middlewares];
  // Only TLS the configuration asked for; port 443's implicit TLS is portero's own.
  if (ep.tls !== null && ep.tls.explicit) {
    http.tls = {
      ...(ep.tls.certResolver !== undefined ? { certResolver: ep.tls.certResolver } : {}),
      ...(ep.tls.domains.length > 0 ? { domains: structuredClone(ep.tls.domains) } : {}),
    };
  }
  return http;
}

// ---- providers ------------------------------------------------------------

export interface ProviderReport {
  name: string;
  /** "ok"; "warning": serving the last good configuration despite a problem, or elements left out; "error": cannot read it at all. */
  state: 'ok' | 'warning' | 'error';
  lastUpdate: string | null;
  lastError: string | null;
  /** Problems with its last configuration (each disabled element is also in the API with its error). */
  errors: string[];
  /** What it serves differently from what was written, disabling nothing (a network fallback, labels ignored). */
  warnings: string[];
  [more: string]: unknown;
}

function providerReport(p: ProviderFacts): ProviderReport {
  const errors = p.errors.filter((e) => e.level !== 'warning').map((e) => e.message);
  const warnings = [...new Set(p.errors.filter((e) => e.level === 'warning').map((e) => e.message))];
  const lastError = p.swarm?.lastError ?? p.file?.lastError ?? null;
  const unreadable = (p.swarm !== undefined && !p.swarm.reachable) || (lastError !== null && p.lastUpdate === null);
  const state = unreadable ? 'error' : lastError !== null || errors.length > 0 || warnings.length > 0 ? 'warning' : 'ok';
  const base: ProviderReport = { name: p.name, state, lastUpdate: p.lastUpdate, lastError, errors, warnings };
  if (p.swarm !== undefined) {
    const { endpoint, reachable, lastSync, services } = p.swarm;
    return { ...base, endpoint, reachable, lastSync, services };
  }
  if (p.file !== undefined) {
    const { filename, directory, watch } = p.file;
    return { ...base, ...(filename !== undefined ? { filename } : {}), ...(directory !== undefined ? { directory } : {}), watch };
  }
  return base;
}

// ---- lists: filters, sorting, pages ---------------------------------------

/** Go's strconv.Atoi, as Traefik parses page and per_page. */
function intParam(query: URLSearchParams, key: string, fallback: number): number | string {
  const raw = query.get(key);
  if (raw === null || raw === '') return fallback;
  const value = /^[+-]?\d+$/.test(raw) ? Number(raw) : 0;
  if (!Number.isSafeInteger(value) || value <= 0) return `invalid request: ${key}: ${Number.isSafeInteger(value) ? value : 0}`;
  return value;
}

/** What a list holds, for its search fields and sort keys; null: entry points and TCP/UDP elements. */
type ListKind = Kind | 'certificates' | null;

function searchFields(kind: ListKind, item: Record<string, unknown>): unknown[] {
  if (kind === 'routers') return [item.rule, item.name];
  if (kind === 'certificates') return [item.commonName, item.issuerOrg, item.issuerCN, ...(Array.isArray(item.sans) ? item.sans : [])];
  return [item.name];
}

function keep(kind: ListKind, item: Record<string, unknown>, query: URLSearchParams): boolean {
  const status = query.get('status') ?? '';
  if (status !== '' && String(item.status ?? '').toLowerCase() !== status.toLowerCase()) return false;
  const search = (query.get('search') ?? '').toLowerCase();
  if (search !== '') {
    if (!searchFields(kind, item).some((f) => typeof f === 'string' && f.toLowerCase().includes(search))) return false;
  }
  if (kind === 'routers') {
    const serviceName = query.get('serviceName') ?? '';
    if (serviceName !== '') {
      const service = typeof item.service === 'string' ? item.service : '';
      if (service.includes('@') ? service !== serviceName : service !== serviceName.split('@')[0]) return false;
    }
    const middlewareName = query.get('middlewareName') ?? '';
    if (middlewareName !== '' && !(Array.isArray(item.middlewares) && item.middlewares.includes(middlewareName))) return false;
  }
  return true;
}

const SORT_FIELDS: Record<string, (x: Record<string, unknown>) => string | number | bigint> = {
  name: (x) => String(x.name),
  status: (x) => String(x.status ?? ''),
  provider: (x) => String(x.provider ?? ''),
  // Exact: internal routers' priorities differ only past a double's precision.
  priority: (x) => (x.priority instanceof Int64 ? BigInt(x.priority.digits) : typeof x.priority === 'number' ? BigInt(x.priority) : 0n),
  rule: (x) => String(x.rule ?? ''),
  service: (x) => String(x.service ?? ''),
  entryPoints: (x) => (Array.isArray(x.entryPoints) ? x.entryPoints.length : 0),
  type: (x) => String(x.type ?? ''),
  servers: (x) => {
    const lb = x.loadBalancer as { servers?: unknown[] } | undefined;
    return Array.isArray(lb?.servers) ? lb.servers.length : 0;
  },
};

// Traefik names and sorts certificates by their common name.
const CERTIFICATE_SORT_FIELDS: Record<string, (x: Record<string, unknown>) => string | number> = {
  name: (x) => String(x.commonName),
  cn: (x) => String(x.commonName),
  status: (x) => String(x.status),
  issuer: (x) => String(x.issuerOrg ?? x.issuerCN ?? ''),
  validUntil: (x) => Date.parse(String(x.notAfter)),
};

function list(query: URLSearchParams, items: readonly object[], kind: ListKind): ApiResponse {
  const rows = (items as Record<string, unknown>[]).filter((x) => keep(kind, x, query));
  const fields = kind === 'certificates' ? CERTIFICATE_SORT_FIELDS : SORT_FIELDS;
  const by = fields[query.get('sortBy') ?? ''] ?? fields.name;
  const nameOf = fields.name;
  const dir = query.get('direction') === 'desc' ? -1 : 1;
  rows.sort((a, b) => {
    const x = by(a);
    const y = by(b);
    const n = String(nameOf(a));
    const m = String(nameOf(b));
    const primary = x < y ? -1 : x > y ? 1 : 0;
    return dir * (primary !== 0 ? primary : n < m ? -1 : n > m ? 1 : 0);
  });
  const perPage = intParam(query, 'per_page', DEFAULT_PER_PAGE);
  if (typeof perPage === 'string') return error(400, perPage);
  const page = intParam(query, 'page', 1);
  if (typeof page === 'string') return error(400, page);
  const start = (page - 1) * perPage;
  if (start !== 0 && start >= rows.length) return error(400, `invalid request: page: ${page}, per_page: ${perPage}`);
  const next = page * perPage < rows.length ? page + 1 : 1;
  return json(200, rows.slice(start, start + perPage), { [NEXT_PAGE_HEADER]: String(next) });
}
