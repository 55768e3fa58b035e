// The `traefik` entry point, served by the main thread: /ping for health
// probes, and with --api the redirect to the dashboard, the dashboard and
// Traefik's API (routes.ts). Never on the request path of proxied traffic:
// every answer is computed here, when asked.
import http from 'node:http';
import { serveDashboard } from './dashboard/index.js';
import { handleApi, type ApiResponse } from './routes.js';
import type { ApiSources } from './sources.js';
import { serveMetrics } from '../metrics/server.js';
import { closeServer, listenOn } from './http-server.js';

export interface ApiOptions {
  host: string;
  port: number;
  ping: boolean;
  api: boolean;
  /** --api.dashboard: serve /dashboard/ (and redirect / to it). */
  dashboard: boolean;
  sources: ApiSources;
  /** True once shutdown began: /ping answers 503 so load balancers stop sending. */
  isDraining(): boolean;
  /** With --metrics.prometheus on this entry point: renders /metrics. */
  metrics?: () => string;
}

export class ApiServer {
  private readonly server: http.Server;

  constructor(private readonly options: ApiOptions) {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  listen(): Promise<number> {
    return listenOn(this.server, this.options.host, this.options.port);
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = req.url ?? '/';
    const path = url.split('?')[0];
    const method = req.method ?? 'GET';
    const o = this.options;
    if (o.ping && path === '/ping' && (method === 'GET' || method === 'HEAD')) {
      const draining = o.isDraining();
      res.writeHead(draining ? 503 : 200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(draining ? 'Service Unavailable' : 'OK');
      return;
    }
    if (o.metrics !== undefined && serveMetrics(req, res, o.metrics)) return;
    if (o.api) {
      if (o.dashboard && path === '/') {
        res.writeHead(302, { location: '/dashboard/', 'content-type': 'text/html; charset=utf-8' });
        res.end('<a href="/dashboard/">Found</a>.\n\n');
        return;
      }
      let answer: ApiResponse | null;
      try {
        answer = handleApi(method, url, o.sources) ?? (o.dashboard && (method === 'GET' || method === 'HEAD') ? serveDashboard(path) : null);
      } catch (err) {
        answer = {
          status: 500,
          headers: { 'content-type': 'application/json' },
          body: `${JSON.stringify({ message: (err as Error).message })}\n`,
        };
      }
      if (answer !== null) {
        res.writeHead(answer.status, answer.headers);
        res.end(method === 'HEAD' ? undefined : answer.body);
        return;
      }
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
  }
}
