// The services a worker balances over, bound to its connection pools: what
// pick.ts chooses from. worker/routes.ts builds them from the table.
import type { PassiveLimits } from '../shared/shared-state.js';
import type { ServerPool } from '../upstream/pool.js';

/** Traefik's singleJoiningSlash: a server's preservePath prefix before a request target ("/x?y"), with one slash between. */
export function joinPath(prefix: string, target: string): string {
  return prefix.endsWith('/') ? prefix + target.slice(1) : prefix + target;
}

export interface ServerRuntime {
  url: string;
  slot: number;
  pool: ServerPool;
  /** "host:port" as sent in Host when passHostHeader is false. */
  authority: string;
  /** preservePath: put before each request's path ("" for none). */
  pathPrefix: string;
  /** From the server's load balancer: forward the client's Host. */
  passHostHeader: boolean;
  /** Its load balancer's shared slot and name (metrics and access log). */
  service: number;
  serviceName: string;
  /** Its load balancer's passive health check, or null. */
  passive: PassiveLimits | null;
  /** The Set-Cookie value that pins a client to this server ("name=value; Path=/..."); null when its load balancer is not sticky. */
  stickyCookie: string | null;
}

export interface LoadBalancerRuntime {
  kind: 'lb';
  name: string;
  servers: ServerRuntime[];
  passHostHeader: boolean;
  rr: number;
  order: number[];
  /** Sticky sessions: the cookie's name and its servers by cookie value; null when off. */
  sticky: { cookie: string; byValue: ReadonlyMap<string, ServerRuntime> } | null;
  /** Set by the table build: some level of this service keeps sticky cookies. */
  usesCookies: boolean;
}

export interface WeightedRuntime {
  kind: 'weighted';
  name: string;
  children: ServiceRuntime[];
  rr: number;
  order: number[];
  /** Sticky sessions: the cookie's name, its children's indexes by cookie value, and each child's Set-Cookie value; null when off. */
  sticky: { cookie: string; byValue: ReadonlyMap<string, number>; setCookies: readonly string[] } | null;
  /** Set by the table build: this service or one below it keeps sticky cookies. */
  usesCookies: boolean;
}

export type ServiceRuntime = LoadBalancerRuntime | WeightedRuntime;
