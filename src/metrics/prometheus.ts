// /metrics: Traefik's Prometheus metrics, read from the shared counters when
// scraped (main thread, never on the request path). Names, labels and
// histogram buckets are Traefik's, so its Grafana dashboards work unchanged:
//
//   traefik_config_reloads_total, traefik_config_last_reload_success
//   traefik_open_connections{entrypoint,protocol}            in-flight proxied requests and WebSocket sessions (see below)
//   traefik_entrypoint_requests_total{code,entrypoint,method,protocol}
//   traefik_entrypoint_request_duration_seconds{...}         histogram, same labels
//   traefik_service_requests_total{code,method,protocol,service}
//   traefik_service_request_duration_seconds{...}            histogram, same labels
//   traefik_service_retries_total{service}
//   traefik_service_server_up{service,url}
//   portero_request_internal_errors_total                   requests cut by a failure of portero's own code
//   process_*, nodejs_heap_*                                 process.ts
//
// Only what the current table holds is reported: a service that left the
// configuration disappears from the next scrape. uWebSockets.js does not
// tell when a client connection opens or closes, so traefik_open_connections
// counts requests being proxied and open WebSocket sessions, per entry point.
import type { PrometheusConfig } from '../config/static.js';
import type { TablePublisher } from '../table/publisher.js';
import { METHOD_LABELS, METHOD_PROTOCOLS, type CellReading, type SharedCounters } from './shared-counters.js';
import type { ServiceSpec } from '../table/spec.js';
import { Exposition, formatValue, labels, withLe } from './exposition.js';
import { writeProcessMetrics } from './process.js';

const PROTOCOL = 'http';

export interface ExporterOptions {
  config: PrometheusConfig;
  counters: SharedCounters;
  /** Entry points served by workers, in the order workers number them. */
  entryPoints: readonly string[];
  publisher: TablePublisher;
}

interface Series {
  labels: string;
  cell: CellReading;
}

function byMethodAndCode(a: CellReading, b: CellReading): number {
  return a.method - b.method || a.code - b.code;
}

export class PrometheusExporter {
  private lastReloadSeconds = 0;

  constructor(private readonly options: ExporterOptions) {}

  /** Call when a new table version was published. */
  onReload(): void {
    this.lastReloadSeconds = Date.now() / 1000;
  }

  render(): string {
    const { config, counters: c, entryPoints, publisher } = this.options;
    const out = new Exposition();

    out.family('traefik_config_reloads_total', 'counter', 'Configuration reloads (new route tables published).');
    out.sample('traefik_config_reloads_total', '', publisher.reloads);
    out.family('traefik_config_last_reload_success', 'gauge', 'When the last configuration reload succeeded, in seconds since the epoch.');
    out.sample('traefik_config_last_reload_success', '', this.lastReloadSeconds);

    out.family('traefik_open_connections', 'gauge', 'Requests being proxied, by entry point and protocol.');
    entryPoints.forEach((ep, i) => out.sample('traefik_open_connections', labels(['entrypoint', ep], ['protocol', PROTOCOL]), c.openRequests(i)));

    if (config.addEntryPointsLabels) {
      const series: Series[] = [];
      entryPoints.forEach((ep, i) => {
        for (const cell of c.read(c.entryPointScope(i)).sort(byMethodAndCode)) {
          series.push({
            labels: labels(['code', String(cell.code)], ['entrypoint', ep], ['method', METHOD_LABELS[cell.method]], ['protocol', METHOD_PROTOCOLS[cell.method]]),
            cell,
          });
        }
      });
      this.requests(out, 'traefik_entrypoint', 'an entry point', series);
    }

    if (config.addServicesLabels) {
      const services: readonly ServiceSpec[] = [...(publisher.current?.spec.services ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const series: Series[] = [];
      for (const s of services) {
        for (const cell of c.read(c.serviceScope(s.rr)).sort(byMethodAndCode)) {
          series.push({
            labels: labels(['code', String(cell.code)], ['method', METHOD_LABELS[cell.method]], ['protocol', METHOD_PROTOCOLS[cell.method]], ['service', s.name]),
            cell,
          });
        }
      }
      this.requests(out, 'traefik_service', 'a service', series);

      out.family('traefik_service_retries_total', 'counter', 'Request retries on a service (another server, or a fresh connection).');
      for (const s of services) {
        const n = c.retriesOf(s.rr);
        if (n > 0n) out.sample('traefik_service_retries_total', labels(['service', s.name]), n);
      }

      out.family('traefik_service_server_up', 'gauge', 'Whether a server of a service is up (1) or down (0).');
      for (const s of services) {
        // Internal services (api@internal) are portero itself, not servers: Traefik reports none for them.
        if (s.kind !== 'lb' || s.name.endsWith('@internal')) continue;
        for (const srv of s.servers) out.sample('traefik_service_server_up', labels(['service', s.name], ['url', srv.url]), publisher.state.isUp(srv.slot) ? 1 : 0);
      }
    }

    out.family('portero_request_internal_errors_total', 'counter', "Requests cut because portero's own code failed while handling them (each is logged with its stack).");
    out.sample('portero_request_internal_errors_total', '', publisher.state.internalErrors());

    out.family('portero_metrics_dropped_observations_total', 'counter', 'Requests not counted because the shared counter table was full.');
    out.sample('portero_metrics_dropped_observations_total', '', c.dropped());

    writeProcessMetrics(out);
    return out.text();
  }

  private requests(out: Exposition, prefix: string, what: string, series: Series[]): void {
    const bounds = this.options.config.buckets.map((b) => formatValue(b));
    const total = `${prefix}_requests_total`;
    out.family(total, 'counter', `HTTP requests processed on ${what}, by status code, method and protocol.`);
    for (const s of series) out.sample(total, s.labels, s.cell.count);
    const hist = `${prefix}_request_duration_seconds`;
    out.family(hist, 'histogram', `How long requests took on ${what}, by status code, method and protocol.`);
    for (const { labels: set, cell } of series) {
      let cumulative = 0n;
      for (let i = 0; i < bounds.length; i++) {
        cumulative += cell.buckets[i];
        out.sample(`${hist}_bucket`, withLe(set, bounds[i]), cumulative);
      }
      out.sample(`${hist}_bucket`, withLe(set, '+Inf'), cell.count);
      out.sample(`${hist}_sum`, set, Number(cell.sumMicros) / 1e6);
      out.sample(`${hist}_count`, set, cell.count);
    }
  }
}
