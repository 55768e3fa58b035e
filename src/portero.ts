// Wires the main thread together: providers -> table publisher -> workers,
// plus the API entry point and graceful shutdown.
import os from 'node:os';
import type { Logger } from 'pino';
import { ApiServer } from './api/server.js';
import { internalElements } from './api/internal.js';
import { DEFAULT_METRICS_ENTRY_POINT } from './config/observability.js';
import type { ProviderFacts } from './api/sources.js';
import type { StaticConfig } from './config/static.js';
import type { ConfigError, DynamicConfig } from './dynamic/model.js';
import { metricsOnlyEntryPoint, Observability } from './metrics/observability.js';
import { FileProvider } from './providers/file.js';
import { FileSource } from './providers/index.js';
import type { Provider } from './providers/provider.js';
import { HealthChecker } from './health/checker.js';
import { SwarmProvider } from './providers/swarm/provider.js';
import { WorkerSupervisor } from './supervisor/workers.js';
import { TablePublisher } from './table/publisher.js';
import type { ServeEntryPoint } from './worker/serve.js';
import { HttpsManager } from './tls/https.js';
import { ensureConnectionMigration } from './supervisor/reuseport.js';
import { createMiddlewareMemory } from './middlewares/shared-memory.js';

export const API_ENTRY_POINT = 'traefik';

export interface PorteroOptions {
  config: StaticConfig;
  log: Logger;
  providers: Provider[];
  /** Lets tests crash a worker on purpose. */
  testHooks?: boolean;
}

export class Portero {
  readonly publisher: TablePublisher;
  readonly supervisor: WorkerSupervisor;
  /** Metrics and the access log. */
  readonly observability: Observability;
  /** Active health checks: one loop per checked server, here on the main thread. */
  readonly health: HealthChecker;
  /** Certificates and ACME resolvers for TLS entry points. */
  readonly https: HttpsManager;
  private readonly api: ApiServer | null;
  /**
   * The API, dashboard, ping and metrics as the internal services routers can
   * name (api@internal, ping@internal, prometheus@internal): a server on a
   * loopback port of its own, which workers forward to like any server.
   */
  private readonly internal: ApiServer | null;
  private draining = false;
  private stopped: Promise<void> | null = null;
  /** Per provider, for the API: when it last sent a configuration, and the problems it reported with it. */
  private readonly received = new Map<string, { at: string; errors: ConfigError[] }>();
  /** The last table published, and when its configuration came (performance.now()): each worker's load of it is logged at debug level. */
  private lastPublished = { generation: 0, at: 0 };
  apiPort = 0;

  constructor(private readonly options: PorteroOptions) {
    const { config } = options;
    const served = Object.values(config.entryPoints).filter((ep) => ep.name !== API_ENTRY_POINT && ep.name !== metricsOnlyEntryPoint(config));
    const servedNames = served.map((ep) => ep.name);
    this.https = new HttpsManager(
      config,
      servedNames,
      {
        certificates: (c) => this.supervisor.certificatesChanged(c),
        challenges: (c) => this.supervisor.challengesChanged(c),
      },
      options.log,
    );
    this.publisher = new TablePublisher({
      entryPoints: servedNames,
      tls: this.https.compileOptions(servedNames),
      entryPointMiddlewares: new Map(served.flatMap((ep) => (ep.middlewares === undefined ? [] : [[ep.name, ep.middlewares] as const]))),
    });
    this.observability = new Observability({ config, publisher: this.publisher, servedEntryPoints: served.map((ep) => ep.name), log: options.log });
    this.health = new HealthChecker(this.publisher.state, options.log, {
      insecureSkipVerify: config.serversTransport.insecureSkipVerify,
      rootCAs: config.serversTransport.rootCAs,
    });
    const entryPoints: ServeEntryPoint[] = served.map((ep) => ({
      name: ep.name,
      host: ep.host,
      port: ep.port,
      trustedIPs: ep.trustedIPs,
      readTimeoutMs: ep.readTimeoutMs,
      insecure: ep.forwardedHeadersInsecure,
      tls: ep.tls !== null,
      redirect:
        ep.redirect === undefined
          ? null
          : {
              scheme: ep.redirect.scheme,
              port: config.entryPoints[ep.redirect.to]!.port,
              permanent: ep.redirect.permanent,
              priority: ep.redirect.priority,
            },
      acmeChallenge: config.certificatesResolvers.some((r) => r.httpChallengeEntryPoint === ep.name),
    }));
    // Workers serve only the proxy entry points; with none (say, `traefik`
    // alone, which Traefik runs fine with) they would only hold threads and
    // memory while the main thread serves the API, dashboard and ping.
    this.supervisor = new WorkerSupervisor(
      served.length === 0 ? 0 : config.workers,
      {
        tableBuffer: this.publisher.tableBuffer,
        stateBuffer: this.publisher.stateBuffer,
        stateLayout: this.publisher.layout,
        middlewareBuffer: createMiddlewareMemory(),
        entryPoints,
        transport: config.serversTransport,
        websocket: config.websocket,
        serverName: os.hostname(),
        testHooks: options.testHooks ?? false,
        certificates: null,
        challenges: [],
        ...this.observability.taskFields(),
      },
      options.log,
    );
    this.supervisor.onMessage((m) => {
      this.observability.onWorkerMessage(m);
      if (m.type === 'table' && m.generation === this.lastPublished.generation) {
        const afterMs = Math.round((performance.now() - this.lastPublished.at) * 10) / 10;
        options.log.debug({ worker: m.workerId, generation: m.generation, afterMs, longestSliceMs: m.longestSliceMs }, 'worker serves the new route table');
      }
    });
    const metrics = this.observability.metricsOn(API_ENTRY_POINT);
    const v1 = config.providers.swarm?.dialect === 'v1';
    const sources = {
      publisher: this.publisher,
      config,
      servedEntryPoints: served.map((ep) => ep.name),
      providers: () => this.providerFacts(),
      certificates: () => this.https.servedCertificates().map((c) => c.certPem),
      startDate: new Date().toISOString(),
      serviceCounters: this.observability.serviceCounters(),
      // Traefik v1 had no internal routers: with its flags, the traefik entry
      // point answers as v1 did (a 302 from / to /dashboard/), by path.
      internal: internalElements({
        api: config.api.enabled,
        insecure: config.api.insecure && !v1,
        dashboard: config.api.dashboard,
        ping: config.ping && !v1 && config.entryPoints[API_ENTRY_POINT] !== undefined ? API_ENTRY_POINT : null,
        metrics: config.metrics?.prometheus !== undefined && !v1 ? (config.metrics.prometheus.entryPoint ?? DEFAULT_METRICS_ENTRY_POINT) : null,
      }),
    };
    const apiEp = config.entryPoints[API_ENTRY_POINT];
    this.api =
      apiEp !== undefined && (config.ping || config.api.insecure || metrics !== undefined)
        ? new ApiServer({
            host: apiEp.host,
            port: apiEp.port,
            ping: config.ping,
            api: config.api.insecure,
            dashboard: config.api.dashboard,
            sources,
            isDraining: () => this.draining,
            metrics,
            ...(v1 ? {} : { routes: sources.internal.routers.filter((r) => r.entryPoint === API_ENTRY_POINT) }),
          })
        : null;
    const renderMetrics = this.observability.metricsRenderer();
    this.internal =
      config.api.enabled || config.ping || renderMetrics !== undefined
        ? new ApiServer({
            host: '127.0.0.1',
            port: 0,
            ping: config.ping,
            api: config.api.enabled,
            dashboard: config.api.dashboard,
            sources,
            isDraining: () => this.draining,
            metrics: renderMetrics,
          })
        : null;
  }

  /**
   * Starts everything; if any part fails (a port in use), what was started is
   * stopped again before the error is thrown, so a failed start leaves no
   * worker or listener behind (the process can exit, a test can go on).
   */
  async start(): Promise<void> {
    try {
      await this.startAll();
    } catch (err) {
      await this.stop().catch(() => {});
      throw err;
    }
  }

  private async startAll(): Promise<void> {
    const { log } = this.options;
    ensureConnectionMigration(log);
    // Certificates first (the generated default, acme.json's), so workers serve them from their first handshake.
    await this.https.prepare();
    this.https.start();
    if (this.internal !== null) {
      const url = `http://127.0.0.1:${await this.internal.listen()}`;
      const internal = new Map<string, string>();
      if (this.options.config.api.enabled) internal.set('api@internal', url);
      if (this.options.config.ping) internal.set('ping@internal', url);
      if (this.observability.metricsRenderer() !== undefined) internal.set('prometheus@internal', url);
      this.publisher.internalServices = internal;
    }
    for (const p of this.options.providers) {
      await p.start((config, errors) => this.apply(p.name, config, errors));
    }
    await this.supervisor.start();
    if (this.api !== null) this.apiPort = await this.api.listen();
    await this.observability.start();
    const eps = Object.values(this.options.config.entryPoints).map((e) => `${e.name}=${e.address}`);
    log.info({ entryPoints: eps, workers: this.supervisor.workers }, 'portero is serving');
  }

  /** Applies one provider's new configuration; logs every element it disables. */
  apply(provider: string, config: DynamicConfig, providerErrors: ConfigError[] = []): void {
    const { log } = this.options;
    const began = performance.now();
    this.received.set(provider, { at: new Date().toISOString(), errors: providerErrors });
    const result = this.publisher.update(provider, config);
    if (this.publisher.current !== null) this.https.compiled(this.publisher.current.tls);
    // A provider's warnings are its own to log (once, when they appear); they disable nothing.
    for (const e of providerErrors) {
      if (e.level !== 'warning') log.error({ provider: e.provider, [e.element?.kind ?? 'element']: e.element?.name }, e.message);
    }
    // The table's warnings (a router short of an entry point) come from no provider: logged here.
    for (const e of result.errors) {
      const fields = { provider: e.provider, [e.element?.kind ?? 'element']: e.element?.name };
      if (e.level === 'warning') log.warn(fields, e.message);
      else log.error(fields, e.message);
    }
    // Also when the table did not change: a health check's settings are not part of it.
    if (!this.draining) this.health.update(this.publisher.healthTargets());
    if (result.changed) {
      this.lastPublished = { generation: result.generation, at: began };
      this.supervisor.tableChanged();
      this.observability.onReload();
      const spec = this.publisher.current!.spec;
      const tookMs = Math.round((performance.now() - began) * 10) / 10;
      log.info({ provider, generation: result.generation, routers: spec.routers.length, services: spec.services.length, tookMs }, 'route table published');
    }
  }

  /** What the API shows about each provider; gathered when asked. */
  providerFacts(): ProviderFacts[] {
    const { config } = this.options;
    return this.options.providers.map((p) => {
      const received = this.received.get(p.name);
      const facts: ProviderFacts = { name: p.name, lastUpdate: received?.at ?? null, errors: received?.errors ?? [] };
      if (p instanceof SwarmProvider) facts.swarm = { ...p.status };
      const file = fileProviderOf(p);
      if (file !== undefined && config.providers.file !== undefined) {
        const { filename, directory, watch } = config.providers.file;
        facts.file = { filename, directory, watch, lastError: file.lastError?.message ?? null };
      }
      return facts;
    }).concat(
      // ACME resolvers' failures (orders, storage) show beside the providers' problems.
      this.https.status().map((r) => ({ name: `acme:${r.name}`, lastUpdate: null, errors: r.errors })),
    );
  }

  /** Graceful stop: /ping turns 503, listeners close, in-flight requests finish within the grace period. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.draining = true;
      const grace = Math.max(0, ...Object.values(this.options.config.entryPoints).map((e) => e.graceTimeoutMs));
      this.options.log.info({ graceMs: grace }, 'shutting down: draining in-flight requests');
      for (const p of this.options.providers) await p.stop();
      this.health.stop();
      await this.supervisor.drain(grace);
      this.https.stop();
      await this.observability.close();
      await this.api?.close();
      await this.internal?.close();
      this.options.log.info('stopped');
    })();
    return this.stopped;
  }
}

/** The file provider behind a provider, for its last load error. */
function fileProviderOf(p: Provider): Pick<FileProvider, 'lastError'> | undefined {
  return p instanceof FileProvider || p instanceof FileSource ? p : undefined;
}
