// Main-thread wiring of metrics and the access log: the shared counters
// buffer handed to workers, the /metrics renderer, the access log writer
// that receives the workers' batches, and the metrics-only entry point when
// --metrics.prometheus.entryPoint names one other than `traefik`.
import type { Logger } from 'pino';
import type { ServiceCounters } from '../api/traffic.js';
import { AccessLogWriter } from '../accesslog/writer.js';
import { DEFAULT_METRICS_ENTRY_POINT } from '../config/observability.js';
import type { StaticConfig } from '../config/static.js';
import type { TablePublisher } from '../table/publisher.js';
import { createCountersBuffer, defaultCellCount, SharedCounters, type CountersLayout } from './shared-counters.js';
import type { ServeTask, WorkerMessage } from '../worker/serve.js';
import { PrometheusExporter } from './prometheus.js';
import { MetricsServer } from './server.js';
import { ServiceTraffic } from './service-traffic.js';
import { workerIdSpace } from '../supervisor/workers.js';

/** The entry point that serves /metrics only (main thread, no routers), or null. */
export function metricsOnlyEntryPoint(config: StaticConfig): string | null {
  const ep = config.metrics?.prometheus?.entryPoint;
  return ep === undefined || ep === DEFAULT_METRICS_ENTRY_POINT ? null : ep;
}

export interface ObservabilityOptions {
  config: StaticConfig;
  publisher: TablePublisher;
  /** Entry points served by workers, in the order they are handed to them. */
  servedEntryPoints: readonly string[];
  log: Logger;
}

export class Observability {
  readonly counters: SharedCounters | null = null;
  readonly exporter: PrometheusExporter | null = null;
  private readonly accessLog: AccessLogWriter | null = null;
  private server: MetricsServer | null = null;
  private traffic: ServiceTraffic | null = null;
  private readonly reopen = () => this.accessLog?.reopen();
  /** Port of the metrics-only entry point once listening (0 when there is none). */
  metricsPort = 0;

  constructor(private readonly options: ObservabilityOptions) {
    const { config, publisher, servedEntryPoints, log } = options;
    const prom = config.metrics?.prometheus;
    if (prom === undefined && config.accessLog === undefined) return;
    // The access log alone needs the counters only to number requests.
    const maxServices = prom === undefined ? 0 : publisher.layout.maxServices;
    const layout: CountersLayout = {
      entryPoints: servedEntryPoints.length,
      maxServices,
      workers: workerIdSpace(config.workers),
      cells: prom === undefined ? 2 : defaultCellCount(maxServices),
      buckets: prom?.buckets ?? [],
    };
    const counters = new SharedCounters(createCountersBuffer(layout), layout);
    this.counters = counters;
    if (prom !== undefined) {
      // A service slot handed to another service starts from zero, before the table that uses it is published.
      publisher.state.serviceResetListeners.add((slot) => counters.resetService(slot));
      this.exporter = new PrometheusExporter({ config: prom, counters, entryPoints: servedEntryPoints, publisher });
    }
    if (config.accessLog !== undefined) {
      this.accessLog = new AccessLogWriter(config.accessLog, (err) => log.error({ err: err.message }, 'access log: cannot write'));
    }
  }

  /** The workers' share of the serve task. */
  taskFields(): Pick<ServeTask, 'counters' | 'metrics' | 'accessLog'> {
    const prom = this.options.config.metrics?.prometheus;
    return {
      counters: this.counters === null ? null : { buffer: this.counters.sab, layout: this.counters.layout },
      metrics: prom === undefined ? null : { entryPoints: prom.addEntryPointsLabels, services: prom.addServicesLabels },
      accessLog: this.options.config.accessLog?.format ?? null,
    };
  }

  /** The /metrics renderer when metrics are served on `entryPoint`. */
  /** The /metrics renderer when Prometheus metrics are on (prometheus@internal), wherever they are served. */
  metricsRenderer(): (() => string) | undefined {
    const exporter = this.exporter;
    return exporter === null ? undefined : () => exporter.render();
  }

  metricsOn(entryPoint: string): (() => string) | undefined {
    const exporter = this.exporter;
    if (exporter === null || this.options.config.metrics?.prometheus?.entryPoint !== entryPoint) return undefined;
    return () => exporter.render();
  }

  /** Per-service request counts for the API's traffic view: always counted, metrics on or off. */
  serviceCounters(): ServiceCounters {
    const { publisher } = this.options;
    this.traffic ??= new ServiceTraffic(publisher.state, () => (publisher.current?.spec.services ?? []).map((s) => s.rr));
    return this.traffic;
  }

  onWorkerMessage(m: WorkerMessage): void {
    if (m.type === 'accesslog') this.accessLog?.write(m.text, m.lines);
  }

  /** Call when a new table version was published. */
  onReload(): void {
    this.exporter?.onReload();
  }

  async start(): Promise<void> {
    if (this.accessLog !== null && this.options.config.accessLog?.filePath !== undefined) process.on('SIGUSR1', this.reopen);
    const name = metricsOnlyEntryPoint(this.options.config);
    const ep = name === null ? undefined : this.options.config.entryPoints[name];
    if (ep !== undefined && this.exporter !== null) {
      const exporter = this.exporter;
      this.server = new MetricsServer(ep.host, ep.port, () => exporter.render());
      this.metricsPort = await this.server.listen();
      this.options.log.warn({ entryPoint: ep.name, address: ep.address }, 'this entry point serves /metrics only: no router is served on it');
    }
  }

  /** After the workers stopped: writes the last access log lines, closes the metrics entry point. */
  async close(): Promise<void> {
    process.off('SIGUSR1', this.reopen);
    this.traffic?.stop();
    await this.server?.close();
    await this.accessLog?.close();
  }
}
