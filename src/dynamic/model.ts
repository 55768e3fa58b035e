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
}

export interface ServerConfig {
  url: string;
  weight?: number;
}

export interface LoadBalancerConfig {
  servers: ServerConfig[];
  passHostHeader?: boolean;
}

export interface WeightedServiceRef {
  name: string;
  weight?: number;
}

export interface ServiceConfig {
  loadBalancer?: LoadBalancerConfig;
  weighted?: { services: WeightedServiceRef[] };
}

// Middlewares are parsed and kept as given; their behaviour lands per middleware.
export type MiddlewareConfig = Record<string, unknown>;

export interface HttpConfig {
  routers: Record<string, RouterConfig>;
  services: Record<string, ServiceConfig>;
  middlewares: Record<string, MiddlewareConfig>;
}

export interface DynamicConfig {
  http: HttpConfig;
}

// A problem found while reading or validating configuration. `element` names
// what is disabled by it ("router whoami@file"), so the log and the API can
// say exactly what stopped serving and why.
export interface ConfigError {
  provider: string;
  element?: { kind: 'router' | 'service' | 'middleware'; name: string };
  message: string;
}

export function emptyDynamicConfig(): DynamicConfig {
  return { http: { routers: {}, services: {}, middlewares: {} } };
}
