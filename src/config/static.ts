// Portero's static configuration: what Traefik calls the "install" config,
// set once at start from flags and/or a YAML file. Durations are in ms.

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
}

export interface FileProviderConfig {
  filename?: string;
  directory?: string;
  /** default true */
  watch: boolean;
}

export interface StaticConfig {
  entryPoints: Record<string, EntryPointConfig>;
  providers: {
    file?: FileProviderConfig;
  };
  api: {
    /** --api or --api.insecure: serve the API/dashboard on the `traefik` entry point. */
    insecure: boolean;
    dashboard: boolean;
  };
  /** --ping (portero default: true; the health probe is part of the product). */
  ping: boolean;
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' };
  /** --workers (default: number of cores). */
  workers: number;
  serversTransport: TransportConfig;
  /** Where the static config came from, for logs. */
  configFile?: string;
}
