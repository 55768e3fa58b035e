// The route table as published to workers: plain data, JSON-encoded into the
// shared buffer. Only valid, enabled routers and the services they reach are
// in it; everything invalid was reported by the compiler instead.
import type { RuleSyntax } from '../dynamic/model.js';
import type { MiddlewareDescriptor } from '../middlewares/types.js';
import type { PassiveLimits } from '../shared/shared-state.js';
import type { StickySpec } from '../balancer/sticky.js';

export interface ServerSpec {
  url: string;
  host: string;
  port: number;
  /** An https:// server: TLS with the servers transport's settings. */
  tls: boolean;
  weight: number;
  /** preservePath: the server url's path, put before each request's path; "" otherwise. */
  pathPrefix: string;
  /** Index into the shared per-server state (in-flight, health). Stable across versions. */
  slot: number;
}

/** A named servers transport's TLS settings for https:// servers, resolved on the main thread. */
export interface UpstreamTls {
  /** Qualified name ("secure@file"): part of the pool key. */
  name: string;
  /** SNI and the name the certificate must carry; null: the server's host. */
  serverName: string | null;
  insecureSkipVerify: boolean;
  /** PEM texts; empty: the system's CAs. */
  rootCAs: string[];
  /** Requests one connection may carry at once; null: --serversTransport.pipelining. */
  pipelining: number | null;
}

export interface LoadBalancerSpec {
  kind: 'lb';
  name: string;
  servers: ServerSpec[];
  /** The servers transport the service names; null: the static --serversTransport.* settings. */
  transport: UpstreamTls | null;
  passHostHeader: boolean;
  /** Shared round-robin counter index. Stable across versions. */
  rr: number;
  /** Weighted round-robin order: indexes into servers, one period. */
  order: number[];
  /** Passive health check, in tenths of a second of the shared clock; null when off. */
  passive: PassiveLimits | null;
  /** Sticky sessions: the cookie's name and attributes; null when off. */
  sticky: StickySpec | null;
  /** Requests one upstream connection may carry at once (the service's, else its transport's); null: the static setting. */
  pipelining: number | null;
}

export interface WeightedSpec {
  kind: 'weighted';
  name: string;
  /** Indexes into TableSpec.services. */
  children: number[];
  rr: number;
  /** Indexes into children, one period. */
  order: number[];
  /** Sticky sessions: the cookie's name and attributes, and the value that names each child; null when off. */
  sticky: (StickySpec & { values: string[] }) | null;
}

export type ServiceSpec = LoadBalancerSpec | WeightedSpec;

export interface RouterSpec {
  name: string;
  rule: string;
  syntax: RuleSyntax;
  priority: number;
  entryPoints: string[];
  /** Index into TableSpec.services. */
  service: number;
  /** Its middlewares in chain order (a v1 rule's rewrites first), checked on the main thread. */
  middlewares: MiddlewareDescriptor[];
}

export interface TableSpec {
  /** Monotonic version, for logs and tests. */
  version: number;
  routers: RouterSpec[];
  services: ServiceSpec[];
}
