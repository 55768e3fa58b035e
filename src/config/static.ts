// Portero's static configuration: what Traefik calls the "install" config,
// set once at start from flags and/or a YAML file. Durations are in ms.
import type { WebSocketConfig } from './websocket.js';
import type { AcmeResolverConfig, EntryPointTls, RedirectionConfig } from './tls.js';

export interface EntryPointConfig {
  name: string;
  /** As given: ":80", "127.0.0.1:8081", "[::1]:80". */
  address: string;
  /** Host to bind ("" = all interfaces). */
  host: string;
  port: number;
  /** --entrypoints.<n>.forwardedHeaders.trustedIPs: CIDRs or IPs whose X-Forwarded-* are kept. */
  trustedIPs: string[];
  /** --entrypoints.<n>.forwardedHeaders.insecure: trust X-Forwarded-* from everyone. */
  forwardedHeadersInsecure: boolean;
  /** --entrypoints.<n>.transport.lifeCycle.graceTimeOut (default 10s). */
  graceTimeoutMs: number;
  /** --entrypoints.<n>.transport.respondingTimeouts.readTimeout (default 60s, 0: none): the whole request body. */
  readTimeoutMs: number;
  /** Serves TLS (http.tls, v1 TLS, or port 443), with the defaults for its routers; null: plain HTTP. */
  tls: EntryPointTls | null;
  /** --entrypoints.<n>.http.redirections.entryPoint.*: every request is redirected there. */
  redirect?: RedirectionConfig;
  /**
   * --entrypoints.<n>.http.middlewares: run before the own middlewares of every router on it,
   * as given (a name without @provider is the router's provider's). Absent: none.
   */
  middlewares?: string[];
}

export interface TransportConfig {
  /** --serversTransport.maxIdleConnsPerHost (default 200): idle keep-alive sockets kept per server, per worker. */
  maxIdleConnsPerHost: number;
  /** --serversTransport.maxConnsPerHost (default 0 = unlimited): open sockets per server, per worker. */
  maxConnsPerHost: number;
  /** --serversTransport.forwardingTimeouts.dialTimeout (default 30s). */
  dialTimeoutMs: number;
  /** --serversTransport.forwardingTimeouts.responseHeaderTimeout (default 0 = none). */
  responseHeaderTimeoutMs: number;
  /** --serversTransport.forwardingTimeouts.idleConnTimeout (default 90s). */
  idleConnTimeoutMs: number;
  /** --serversTransport.forwardingTimeouts.readTimeout (default 60s, 0 = none): longest silence inside a response body. */
  readTimeoutMs: number;
  /**
   * --serversTransport.pipelining (portero's own, default 0 = off): bodiless
   * GET and HEAD requests one upstream connection may carry at once.
   */
  pipelining: number;
  /** --serversTransport.insecureSkipVerify (default false): https:// servers' certificates are not checked. */
  insecureSkipVerify: boolean;
  /** --serversTransport.rootCAs: PEM certificates that https:// servers' chains must lead to; empty = the system's CAs. */
  rootCAs: string[];
}

export interface FileProviderConfig {
  filename?: string;
  directory?: string;
  /** default true */
  watch: boolean;
}

/** Which of Traefik's spellings configured the Swarm provider. */
export type SwarmDialect = 'v1' | 'v2' | 'v3';

/**
 * The Swarm provider: --providers.swarm.* (Traefik v3), --providers.docker.*
 * with swarmMode (v2) or --docker.* with swarmMode (v1).
 */
export interface SwarmStaticConfig {
  /** "unix:///path" or "tcp://host:port" (http:// is given as tcp://). Default unix:///var/run/docker.sock. */
  endpoint: string;
  /** Route services without traefik.enable=true (default true, as in Traefik). */
  exposedByDefault: boolean;
  /** Network whose task addresses are used, unless a service's label says otherwise. */
  network?: string;
  /** Task polling interval in seconds, > 0, may be fractional (default 1; Traefik's is 15). */
  refreshSeconds: number;
  /**
   * Go template for services without a rule, default "Host(`{{ normalize .Name }}`)".
   * With v1's --docker.domain=D: "Host(`{{ normalize .Name }}.D`)".
   */
  defaultRule: string;
  /**
   * Label expression services must match, e.g. "Label(`a`,`b`) && !LabelRegex(`c`,`x.*`)".
   * v1's tag constraints arrive translated: "tag==api" becomes
   * LabelRegex(`traefik.tags`, `(^|,)\s*api\s*(,|$)`).
   */
  constraints?: string;
  /** Follow changes after the first read (default true). */
  watch: boolean;
  /** Which spelling enabled it, for logs. */
  dialect: SwarmDialect;
}

export interface StaticConfig {
  entryPoints: Record<string, EntryPointConfig>;
  providers: {
    file?: FileProviderConfig;
    swarm?: SwarmStaticConfig;
  };
  api: {
    /** --api or --api.insecure: the API and dashboard exist, as the api@internal service. */
    enabled: boolean;
    /** --api.insecure (or v1's --api): also served on the `traefik` entry point. */
    insecure: boolean;
    dashboard: boolean;
  };
  /** --ping (portero default: true; the health probe is part of the product). */
  ping: boolean;
  log: {
    level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
    /** --log.format (default common, as in Traefik). */
    format?: LogFormat;
  };
  /** --metrics.prometheus.*: absent when metrics are off. */
  metrics?: { prometheus?: PrometheusConfig };
  /** --accesslog.*: absent when the access log is off. */
  accessLog?: AccessLogConfig;
  /** --workers (default: number of cores). */
  workers: number;
  serversTransport: TransportConfig;
  /** --websocket.*: proxied WebSockets. */
  websocket: WebSocketConfig;
  /** --certificatesresolvers.<n>.acme.*: Let's Encrypt (or any ACME CA) resolvers. */
  certificatesResolvers: AcmeResolverConfig[];
  /** v1's TLS:cert,key on an entry point: certificates served like the file provider's. */
  staticCertificates: { certFile: string; keyFile: string }[];
  /** v1's --defaultEntryPoints: where routers without entryPoints go (default: every entry point). */
  defaultEntryPoints?: string[];
  /** Where the static config came from, for logs. */
  configFile?: string;
  /** Settings accepted for compatibility but ignored, one message each; the CLI prints them on stderr. */
  warnings?: string[];
}

export type LogFormat = 'common' | 'json';

export interface PrometheusConfig {
  /** --metrics.prometheus.entryPoint (default traefik): where /metrics is served. */
  entryPoint: string;
  /** --metrics.prometheus.buckets, seconds, increasing (default 0.1,0.3,1.2,5.0). */
  buckets: number[];
  /** --metrics.prometheus.addEntryPointsLabels (default true). */
  addEntryPointsLabels: boolean;
  /** --metrics.prometheus.addServicesLabels (default true). */
  addServicesLabels: boolean;
}

export type AccessLogFormat = 'common' | 'genericCLF' | 'json';

export interface AccessLogConfig {
  /** --accesslog.format (default common: Traefik's CLF line). */
  format: AccessLogFormat;
  /** --accesslog.filepath; stdout when absent. */
  filePath?: string;
  /** --accesslog.bufferingsize: lines held before a write (default 0: write as they arrive). */
  bufferingSize: number;
}
