// Traefik's internal provider, for what portero answers itself: the routers
// of the `traefik` entry point (ping@internal, prometheus@internal,
// api@internal, dashboard@internal), the dashboard's two middlewares and the
// internal services. The API lists them as Traefik does, and the `traefik`
// entry point (server.ts) routes by this same list: what the API says is what
// runs.
import type { MiddlewareConfig } from '../dynamic/model.js';

export type InternalService = 'api' | 'dashboard' | 'ping' | 'prometheus';

export interface InternalRouter {
  /** Qualified: "api@internal". */
  name: string;
  /** The one path prefix the rule matches (every internal rule is a PathPrefix). */
  prefix: string;
  /** Traefik's priorities are near the int64 maximum, which a JavaScript number cannot hold: kept as decimal digits. */
  priority: string;
  entryPoint: string;
  service: InternalService;
  middlewares: string[];
}

export interface InternalElements {
  /** Highest priority first: the order they are tried in. */
  routers: InternalRouter[];
  /** Qualified service names. */
  services: string[];
  middlewares: Map<string, MiddlewareConfig>;
}

export interface InternalOptions {
  /** --api or --api.insecure: the api@internal service exists. */
  api: boolean;
  /** --api.insecure: its routers on the `traefik` entry point. */
  insecure: boolean;
  dashboard: boolean;
  /** The entry point of ping@internal's router, or null without ping. */
  ping: string | null;
  /** The entry point of prometheus@internal's router, or null without Prometheus metrics. */
  metrics: string | null;
}

const MAX_INT64 = 9223372036854775807n;

export const DASHBOARD_REDIRECT = 'dashboard_redirect@internal';
export const DASHBOARD_STRIP_PREFIX = 'dashboard_stripprefix@internal';
/** Traefik's: only a plain-http URL of the root, with or without a port, is redirected. */
export const DASHBOARD_REDIRECT_REGEX = String.raw`^(http:\/\/(\[[\w:.]+\]|[\w\._-]+)(:\d+)?)\/$`;
const DASHBOARD_REDIRECT_MATCHER = new RegExp(DASHBOARD_REDIRECT_REGEX);
export const DASHBOARD_PREFIXES = ['/dashboard/', '/dashboard'];

export function internalElements(o: InternalOptions): InternalElements {
  const routers: InternalRouter[] = [];
  const router = (name: string, prefix: string, below: bigint, entryPoint: string, service: InternalService, middlewares: string[] = []): void => {
    routers.push({ name: `${name}@internal`, prefix, priority: String(MAX_INT64 - below), entryPoint, service, middlewares });
  };
  if (o.ping !== null) router('ping', '/ping', 0n, o.ping, 'ping');
  if (o.metrics !== null) router('prometheus', '/metrics', 0n, o.metrics, 'prometheus');
  if (o.api && o.insecure) {
    router('api', '/api', 1n, 'traefik', 'api');
    if (o.dashboard) router('dashboard', '/', 2n, 'traefik', 'dashboard', [DASHBOARD_REDIRECT, DASHBOARD_STRIP_PREFIX]);
  }
  // Highest first; equal priorities keep the order above (stable sort).
  routers.sort((a, b) => {
    const d = BigInt(b.priority) - BigInt(a.priority);
    return d > 0n ? 1 : d < 0n ? -1 : 0;
  });

  const services = [
    ...(o.api ? ['api@internal'] : []),
    ...(o.api && o.dashboard ? ['dashboard@internal'] : []),
    'noop@internal',
    ...(o.ping !== null ? ['ping@internal'] : []),
    ...(o.metrics !== null ? ['prometheus@internal'] : []),
  ];
  const middlewares = new Map<string, MiddlewareConfig>();
  if (o.api && o.insecure && o.dashboard) {
    middlewares.set(DASHBOARD_REDIRECT, { redirectRegex: { regex: DASHBOARD_REDIRECT_REGEX, replacement: '${1}/dashboard/', permanent: true } });
    middlewares.set(DASHBOARD_STRIP_PREFIX, { stripPrefix: { prefixes: [...DASHBOARD_PREFIXES] } });
  }
  return { routers, services, middlewares };
}

/** The router a request goes to among one entry point's internal routers (highest priority first), or undefined (404). */
export function matchInternal(routers: readonly InternalRouter[], path: string): InternalRouter | undefined {
  return routers.find((r) => path.startsWith(r.prefix));
}

/** dashboard_redirect@internal: where a request is sent, or null when the regex does not match its URL. */
export function dashboardRedirect(host: string, requestUri: string): string | null {
  const m = DASHBOARD_REDIRECT_MATCHER.exec(`http://${host}${requestUri}`);
  return m === null ? null : `${m[1]}/dashboard/`;
}

/** dashboard_stripprefix@internal: the path the dashboard service sees. */
export function dashboardStripPrefix(path: string): string {
  for (const prefix of DASHBOARD_PREFIXES) {
    if (path.startsWith(prefix)) {
      const rest = path.slice(prefix.length);
      return rest.startsWith('/') ? rest : `/${rest}`;
    }
  }
  return path;
}

/**
 * An int64 priority in the API's JSON: written as its exact digits (the
 * encoder in routes.ts unwraps it), compared exactly when sorting.
 */
export class Int64 {
  static readonly MARK = '\u0000int64:';

  constructor(readonly digits: string) {}

  toJSON(): string {
    return `${Int64.MARK}${this.digits}`;
  }

  toString(): string {
    return this.digits;
  }
}

/** JSON text with every Int64 written as a bare number. */
export function unwrapInt64(json: string): string {
  return json.includes('\\u0000int64:') ? json.replace(/"\\u0000int64:(\d+)"/g, '$1') : json;
}
