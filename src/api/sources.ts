// What the API reads, all of it on request (the API runs on the main thread
// and is never on the path of proxied traffic): the latest compilation, the
// shared per-server state, the static configuration, and what the main thread
// knows about each provider.
import type { StaticConfig } from '../config/static.js';
import type { ConfigError } from '../dynamic/model.js';
import type { InternalElements } from './internal.js';
import type { SwarmProviderStatus } from '../providers/swarm/provider.js';
import type { TablePublisher } from '../table/publisher.js';
import type { ServiceCounters } from './traffic.js';

/** Facts about one provider, gathered by portero.ts when the API asks. */
export interface ProviderFacts {
  /** "file", "swarm" (the suffix of the names it qualifies). */
  name: string;
  /** When the provider last handed over a configuration (ISO 8601), or null if it never did. */
  lastUpdate: string | null;
  /** The problems reported with its last configuration (elements it left out, service-level problems). */
  errors: readonly ConfigError[];
  swarm?: SwarmProviderStatus;
  file?: {
    filename?: string;
    directory?: string;
    watch: boolean;
    /** Why the files cannot be loaded now (the last good configuration stays in effect), or null. */
    lastError: string | null;
  };
}

export interface ApiSources {
  publisher: TablePublisher;
  config: StaticConfig;
  /** Entry points whose routers are served by workers (all but `traefik`). */
  servedEntryPoints: readonly string[];
  providers(): ProviderFacts[];
  /** Per-service request counters, once metrics exist; until then undefined. */
  serviceCounters?: ServiceCounters;
  /** The PEM of each certificate TLS entry points serve (the generated default left out), for /api/certificates. */
  certificates(): string[];
  /** Traefik's internal provider's elements, from the static configuration. */
  internal: InternalElements;
  /** When portero started (ISO 8601), for /api/version. */
  startDate: string;
}
