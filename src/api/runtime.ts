// Traefik's runtime view of the HTTP configuration (pkg/config/runtime: the
// configured element plus `error`, `status` and `usedBy`/`using`), built on
// request from the latest compilation, the providers' own errors and the
// shared per-server health words. Every element the providers sent is here,
// the disabled ones with their errors; so are the elements a provider had to
// leave out (a bad label), with only a name, a status and the error.
import type { ConfigError, LoadBalancerConfig, MiddlewareConfig, RuleSyntax, ServiceConfig } from '../dynamic/model.js';
import { defaultPriority } from '../rules/index.js';
import type { CompiledTable } from '../table/compile.js';
import { qualify } from '../table/compile.js';
import { MiddlewareCompiler } from '../middlewares/compile.js';
import { COMPRESS_DEFAULT_ENCODINGS } from '../middlewares/compress.js';
import { Int64, type InternalElements } from './internal.js';
import type { SharedState } from '../shared/shared-state.js';

export type Status = 'enabled' | 'disabled' | 'warning';

export interface RouterInfo {
  entryPoints?: string[];
  middlewares?: string[];
  /** As configured: bare names are of the router's own provider. */
  service?: string;
  rule?: string;
  /** As configured; "default" on Traefik's own routers. */
  ruleSyntax?: RuleSyntax | 'default';
  /** The priority in effect: as configured, or the rule's length (an internal router's: near the int64 maximum). */
  priority?: number | Int64;
  /** As configured (Traefik's shape): a TLS router. */
  tls?: { options?: string; certResolver?: string; domains?: { main: string; sans?: string[] }[] };
  observability?: RouterObservability;
  error?: string[];
  status: Status;
  /** The router's entry points that exist, whatever its status (as Traefik fills it before building). */
  using?: string[];
}

/** Traefik's per-router observability switches; portero applies the same to every router. */
export interface RouterObservability {
  accessLogs: boolean;
  metrics: boolean;
  tracing: boolean;
  traceVerbosity: 'minimal' | 'detailed';
}

/** What Traefik shows on a router that sets nothing: the entry point's defaults, all on. */
export const ROUTER_OBSERVABILITY: RouterObservability = { accessLogs: true, metrics: true, tracing: true, traceVerbosity: 'minimal' };

/** Traefik's defaults on a load balancer, shown whether set or not. */
export const LB_STRATEGY = 'wrr';
export const LB_FLUSH_INTERVAL = '100ms';

export interface ServiceInfo {
  loadBalancer?: Record<string, unknown> & { servers: { url: string; weight?: number; preservePath?: boolean }[]; passHostHeader: boolean };
  weighted?: { services: { name: string; weight: number }[]; sticky?: unknown };
  error?: string[];
  status: Status;
  /** Routers that use the service, qualified, sorted. */
  usedBy?: string[];
  /** Server URL -> "UP" | "DOWN", from the health words the workers share (enabled load balancers only). */
  serverStatus?: Record<string, 'UP' | 'DOWN'>;
}

export type MiddlewareInfo = MiddlewareConfig & { error?: string[]; status: Status; usedBy?: string[] };

export interface Runtime {
  routers: Map<string, RouterInfo>;
  services: Map<string, ServiceInfo>;
  middlewares: Map<string, MiddlewareInfo>;
}

export const NO_SERVERS = 'the service has no servers: its routers answer 503';

export function providerOf(qualified: string): string {
  const at = qualified.lastIndexOf('@');
  return at < 0 ? '' : qualified.slice(at + 1);
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function addError(info: { error?: string[]; status: Status }, message: string, status: Status): void {
  const list = (info.error ??= []);
  if (!list.includes(message)) list.push(message);
  if (status === 'disabled' || info.status === 'enabled') info.status = status;
}

export function buildRuntime(
  compiled: CompiledTable | null,
  state: SharedState,
  servedEntryPoints: readonly string[],
  providerErrors: readonly ConfigError[],
  internal: InternalElements,
): Runtime {
  const runtime: Runtime = { routers: new Map(), services: new Map(), middlewares: new Map() };
  if (compiled !== null) fromCompiled(runtime, compiled, state, servedEntryPoints);
  fromInternal(runtime, internal);

  // Elements a provider left out (a bad label, a conflicting definition) or
  // reported a problem with.
  for (const e of providerErrors) {
    // A broken servers transport shows through the services that name it.
    // TCP and UDP elements have their own sections (tcp-udp.ts).
    if (e.element === undefined || (e.element.kind !== 'router' && e.element.kind !== 'service' && e.element.kind !== 'middleware')) continue;
    const name = qualify(e.element.name, e.provider);
    const map: Map<string, { error?: string[]; status: Status }> =
      e.element.kind === 'router' ? runtime.routers : e.element.kind === 'service' ? runtime.services : runtime.middlewares;
    const present = map.get(name);
    // A warning disables nothing: it shows on the element if the element is there.
    if (present === undefined) {
      if (e.level !== 'warning') map.set(name, { ...(e.definition !== undefined ? structuredClone(e.definition) : {}), error: [e.message], status: 'disabled' });
    } else addError(present, e.message, present.status === 'disabled' ? 'disabled' : 'warning');
  }

  // usedBy, from every router whatever its status, as Traefik does.
  for (const [routerName, r] of runtime.routers) {
    const provider = providerOf(routerName);
    if (r.service !== undefined && r.service !== '') {
      const s = runtime.services.get(qualify(r.service, provider));
      if (s !== undefined) (s.usedBy ??= []).push(routerName);
    }
    for (const m of r.middlewares ?? []) {
      const mw = runtime.middlewares.get(qualify(m, provider));
      if (mw !== undefined && !(mw.usedBy ??= []).includes(routerName)) mw.usedBy.push(routerName);
    }
  }
  for (const s of runtime.services.values()) s.usedBy?.sort(byName);
  for (const m of runtime.middlewares.values()) m.usedBy?.sort(byName);
  return runtime;
}

function fromCompiled(runtime: Runtime, compiled: CompiledTable, state: SharedState, served: readonly string[]): void {
  const enabledRouters = new Map(compiled.spec.routers.map((r) => [r.name, r]));
  for (const [name, r] of compiled.configs.routers) {
    const spec = enabledRouters.get(name);
    const status = compiled.routerStatus.get(name);
    const info: RouterInfo = {
      // As written, as Traefik shows them (`using` says where it serves); unset: where it was placed.
      entryPoints: r.entryPoints !== undefined && r.entryPoints.length > 0 ? [...r.entryPoints] : (spec?.entryPoints ?? [...served]),
      // Qualified, as Traefik shows them once the router is built.
      ...(r.middlewares !== undefined && r.middlewares.length > 0 ? { middlewares: r.middlewares.map((m) => qualify(m, providerOf(name))) } : {}),
      ...(r.service !== undefined ? { service: r.service } : {}),
      rule: r.rule,
      // Only as configured: Traefik v3 deprecates the option and adds nothing when it is absent.
      ...(r.ruleSyntax !== undefined ? { ruleSyntax: r.ruleSyntax } : {}),
      priority: spec?.priority ?? (r.priority !== undefined && r.priority > 0 ? r.priority : defaultPriority(r.rule)),
      ...(r.tls !== undefined ? { tls: structuredClone(r.tls) } : {}),
      observability: { ...ROUTER_OBSERVABILITY },
      ...(status !== undefined && status.errors.length > 0 ? { error: [...status.errors] } : {}),
      status: spec === undefined ? 'disabled' : status?.status === 'warning' ? 'warning' : 'enabled',
    };
    const using = spec !== undefined ? spec.entryPoints : (info.entryPoints ?? []).filter((ep) => served.includes(ep));
    if (using.length > 0) info.using = [...new Set(using)].sort(byName);
    runtime.routers.set(name, info);
  }

  const enabledServices = new Map(compiled.spec.services.map((s) => [s.name, s]));
  const usedServices = servicesInUse(compiled.spec);
  for (const [name, s] of compiled.configs.services) {
    const spec = enabledServices.get(name);
    const status = compiled.serviceStatus.get(name);
    const lb = s.loadBalancer;
    // Internal services (api@internal, ping@internal) are answered by portero
    // itself: Traefik shows them with no configuration, and so does portero.
    const internal = providerOf(name) === 'internal';
    const info: ServiceInfo = {
      ...(lb !== undefined && !internal ? { loadBalancer: loadBalancerView(lb) } : {}),
      ...(s.weighted !== undefined ? { weighted: weightedView(s.weighted) } : {}),
      ...(status !== undefined && status.errors.length > 0 ? { error: [...status.errors] } : {}),
      status: spec !== undefined ? 'enabled' : 'disabled',
    };
    // Traefik builds only the services a router uses: the others have no server status.
    if (spec?.kind === 'lb' && !internal && usedServices.has(name)) {
      if (spec.servers.length === 0) addError(info, NO_SERVERS, 'warning');
      else {
        const serverStatus: Record<string, 'UP' | 'DOWN'> = {};
        for (const v of spec.servers) serverStatus[v.url] = state.isUp(v.slot) ? 'UP' : 'DOWN';
        info.serverStatus = serverStatus;
      }
    }
    runtime.services.set(name, info);
  }

  const middlewares = new MiddlewareCompiler(compiled.configs.middlewares, (m, owner) => qualify(m, owner.slice(owner.lastIndexOf('@') + 1)));
  for (const [name, m] of compiled.configs.middlewares) {
    const checked = middlewares.one(name, []);
    const shown = withTraefikDefaults(m);
    runtime.middlewares.set(name, typeof checked === 'string' ? { ...shown, error: [checked], status: 'disabled' } : { ...shown, status: 'enabled' });
  }
}

/** Traefik's internal provider's elements: the routers portero's `traefik` entry point answers by. */
function fromInternal(runtime: Runtime, internal: InternalElements): void {
  for (const r of internal.routers) {
    runtime.routers.set(r.name, {
      entryPoints: [r.entryPoint],
      ...(r.middlewares.length > 0 ? { middlewares: [...r.middlewares] } : {}),
      service: `${r.service}@internal`,
      rule: `PathPrefix(\`${r.prefix}\`)`,
      // Traefik's word for the v3 syntax on its own routers.
      ruleSyntax: 'default',
      priority: new Int64(r.priority),
      observability: { ...ROUTER_OBSERVABILITY },
      status: 'enabled',
      using: [r.entryPoint],
    });
  }
  for (const name of internal.services) if (!runtime.services.has(name)) runtime.services.set(name, { status: 'enabled' });
  for (const [name, m] of internal.middlewares) runtime.middlewares.set(name, { ...structuredClone(m), status: 'enabled' });
}

/**
 * A middleware as Traefik shows it: its options with the defaults Traefik's
 * SetDefaults fills in (the ones portero applies the same way).
 */
function withTraefikDefaults(m: MiddlewareConfig): MiddlewareConfig {
  const out = structuredClone(m);
  for (const [key, value] of Object.entries(out)) {
    const options = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : value === true || value === 'true' ? {} : null;
    if (options === null) continue;
    const defaults = MIDDLEWARE_DEFAULTS[key.toLowerCase()];
    if (defaults === undefined) continue;
    const has = new Set(Object.keys(options).map((k) => k.toLowerCase()));
    out[key] = { ...Object.fromEntries(Object.entries(defaults).filter(([k]) => !has.has(k.toLowerCase()))), ...options };
  }
  return out;
}

const MIDDLEWARE_DEFAULTS: Record<string, Record<string, unknown>> = {
  compress: { encodings: [...COMPRESS_DEFAULT_ENCODINGS] },
  ratelimit: { burst: 1, period: '1s' },
  circuitbreaker: { checkPeriod: '100ms', fallbackDuration: '10s', recoveryDuration: '10s', responseCode: 503 },
};

/** The services routers reach, through weighted parents too: those Traefik builds. */
function servicesInUse(spec: CompiledTable['spec']): Set<string> {
  const used = new Set<string>();
  const visit = (i: number): void => {
    const s = spec.services[i];
    if (s === undefined || used.has(s.name)) return;
    used.add(s.name);
    if (s.kind === 'weighted') for (const c of s.children) visit(c);
  };
  for (const r of spec.routers) visit(r.service);
  return used;
}

/**
 * A load balancer as Traefik shows it: as configured, with its defaults
 * filled in (strategy, passHostHeader, responseForwarding), and a weight on
 * a server only where one was set.
 */
function loadBalancerView(lb: LoadBalancerConfig): NonNullable<ServiceInfo['loadBalancer']> {
  const { servers, passHostHeader, responseForwarding, ...rest } = structuredClone(lb);
  return {
    servers: servers.map((v) => ({ url: v.url, ...(v.weight !== undefined ? { weight: v.weight } : {}), ...(v.preservePath === true ? { preservePath: true } : {}) })),
    strategy: LB_STRATEGY,
    ...rest,
    passHostHeader: passHostHeader ?? true,
    responseForwarding: { flushInterval: responseForwarding?.flushInterval ?? LB_FLUSH_INTERVAL },
  };
}

function weightedView(w: NonNullable<ServiceConfig['weighted']>): NonNullable<ServiceInfo['weighted']> {
  return {
    // Traefik's WRRService defaults its weight to 1, unlike a server's.
    services: w.services.map((c) => ({ name: c.name, weight: c.weight ?? 1 })),
    ...(w.sticky !== undefined ? { sticky: structuredClone(w.sticky) } : {}),
  };
}

/** Traefik's `type` of a service or middleware: its one configured kind, lower-cased. */
export function elementType(info: object): string {
  for (const [k, v] of Object.entries(info)) {
    if (k === 'error' || k === 'status' || k === 'usedBy' || k === 'serverStatus') continue;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return k.toLowerCase();
  }
  return '';
}
