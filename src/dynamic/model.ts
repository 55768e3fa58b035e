// Traefik's dynamic configuration model (the `http` part), as providers emit it.
// Names inside one provider's config are bare ("whoami"); the merge step
// qualifies them with the provider ("whoami@file") as Traefik does.

export type RuleSyntax = 'v3' | 'v2' | 'v1';

export interface RouterConfig {
  rule: string;
  ruleSyntax?: RuleSyntax;
  service?: string;
  priority?: number;
  entryPoints?: string[];
  middlewares?: string[];
  /** Set: a TLS router, served on TLS entry points only. */
  tls?: RouterTlsConfig;
}

export interface TlsDomainConfig {
  main: string;
  sans?: string[];
}

export interface RouterTlsConfig {
  /** A --certificatesresolvers.<name> that orders certificates for the router's domains. */
  certResolver?: string;
  /** The names to order; default: the Host names of the rule. */
  domains?: TlsDomainConfig[];
}

/** A certificate and its key: each a file path or inline PEM, as given. */
export interface CertificateConfig {
  certFile: string;
  keyFile: string;
}

/** The dynamic `tls` section (file provider). */
export interface TlsConfig {
  certificates?: CertificateConfig[];
  /** tls.stores.default.defaultCertificate: served to clients whose name no certificate covers. */
  defaultCertificate?: CertificateConfig;
}

/**
 * Why an h2c:// server (HTTP/2 cleartext, what gRPC servers speak) is refused:
 * the client side cannot be HTTP/2, so an HTTP/2 upstream would carry nothing
 * a gRPC client could send (checked: curl --http2-prior-knowledge gets its
 * connection closed, an Upgrade: h2c request is answered in HTTP/1.1).
 */
export const H2C_REFUSED =
  "h2c (HTTP/2 cleartext, as gRPC uses) is not supported: portero's entry points speak HTTP/1.1 only (uWebSockets.js has no HTTP/2), so a gRPC client cannot reach the server through portero; route gRPC around it";

export interface ServerConfig {
  url: string;
  weight?: number;
  /** Traefik v3: the path of `url` goes before the request's path; without it, that path is ignored. */
  preservePath?: boolean;
}

export interface LoadBalancerConfig {
  servers: ServerConfig[];
  passHostHeader?: boolean;
  /** Name of an http.serversTransports entry (any provider's, "name@file"); default: the static --serversTransport.* settings. */
  serversTransport?: string;
  healthCheck?: HealthCheckConfig;
  passiveHealthCheck?: PassiveHealthCheckConfig;
  /** Accepted as Traefik writes it; portero always writes body pieces to the client as they arrive. */
  responseForwarding?: { flushInterval?: string };
  sticky?: { cookie: StickyCookieConfig };
  /**
   * portero's own, set from the Swarm label portero.pipelining (no file key:
   * Traefik would refuse it): requests one upstream connection may carry at
   * once; wins over the servers transport's and the static setting.
   */
  pipelining?: number;
}

/** Traefik's loadBalancer.sticky.cookie. */
export interface StickyCookieConfig {
  name?: string;
  secure?: boolean;
  httpOnly?: boolean;
  /** none, lax or strict (any case); anything else: no SameSite attribute. */
  sameSite?: string;
  /** Seconds; 0: a session cookie; below 0: expires at once. */
  maxAge?: number;
  path?: string;
  domain?: string;
}

/** Active checks (Traefik's loadBalancer.healthCheck). Durations as given ("10s"), validated. */
export interface HealthCheckConfig {
  path?: string;
  scheme?: 'http' | 'https';
  mode?: 'http';
  hostname?: string;
  port?: number;
  interval?: string;
  unhealthyInterval?: string;
  timeout?: string;
  headers?: Record<string, string>;
  followRedirects?: boolean;
  method?: string;
  /** The expected status; without it, any 2xx or 3xx is healthy. */
  status?: number;
}

/** Passive checks (Traefik's loadBalancer.passiveHealthCheck): transport failures take a server out. */
export interface PassiveHealthCheckConfig {
  /** How long failures are counted, and how long a failing server stays out ("10s"). */
  failureWindow?: string;
  /** Failures within the window that take the server out (default 1). */
  maxFailedAttempts?: number;
}

export interface WeightedServiceRef {
  name: string;
  weight?: number;
}

export interface ServiceConfig {
  loadBalancer?: LoadBalancerConfig;
  weighted?: { services: WeightedServiceRef[]; sticky?: { cookie: StickyCookieConfig } };
}

// Middlewares are parsed and kept as given; their behaviour lands per middleware.
export type MiddlewareConfig = Record<string, unknown>;

/** How https:// servers of the services that name it are trusted (Traefik's http.serversTransports). */
export interface ServersTransportConfig {
  /** SNI and the name the certificate must carry; default: the server's host. */
  serverName?: string;
  insecureSkipVerify?: boolean;
  /** CA certificates, each inline PEM or a file path, as given. */
  rootCAs?: string[];
  /** portero's own: requests one upstream connection may carry at once (pipelining); absent: --serversTransport.pipelining. */
  pipelining?: number;
}

export interface HttpConfig {
  routers: Record<string, RouterConfig>;
  services: Record<string, ServiceConfig>;
  middlewares: Record<string, MiddlewareConfig>;
  serversTransports?: Record<string, ServersTransportConfig>;
}

export interface DynamicConfig {
  http: HttpConfig;
  tls?: TlsConfig;
}

// A problem found while reading or validating configuration. `element` names
// what is disabled by it ("router whoami@file"), so the log and the API can
// say exactly what stopped serving and why.
/** TCP and UDP elements a provider read (Swarm labels) and portero does not serve: listed in the API, disabled. */
export type TcpUdpKind = 'tcpRouter' | 'tcpService' | 'tcpMiddleware' | 'udpRouter' | 'udpService';

export interface ConfigError {
  provider: string;
  element?: { kind: 'router' | 'service' | 'middleware' | 'serversTransport' | 'certificate' | TcpUdpKind; name: string };
  message: string;
  /**
   * 'warning': nothing is disabled; the element keeps serving, as Traefik
   * would serve it, and shows the message with status "warning".
   */
  level?: 'warning';
  /** The element as written, when it was a mapping: the API shows it beside the error, as Traefik shows a disabled element's configuration. */
  definition?: Record<string, unknown>;
}

export function emptyDynamicConfig(): DynamicConfig {
  return { http: { routers: {}, services: {}, middlewares: {} } };
}
