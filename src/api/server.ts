// The `traefik` entry point, served by the main thread: /ping for health
// probes, and with --api the redirect to the dashboard, the dashboard and
// Traefik's API (routes.ts). Never on the request path of proxied traffic:
// every answer is computed here, when asked.
import http from 'node:http';
import { DASHBOARD_NO_SLASH, dashboardFile, serveDashboard } from './dashboard/index.js';
import { dashboardRedirect, dashboardStripPrefix, matchInternal, type InternalRouter } from './internal.js';
import { handleApi, type ApiResponse } from './routes.js';
import type { ApiSources } from './sources.js';
import { serveMetrics } from '../metrics/server.js';
import { redirectStatus } from '../middlewares/redirect.js';
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
  /**
   * The `traefik` entry point: Traefik's internal routers on it, highest
   * priority first. Absent: the internal server routers forward to, which goes by path.
   */
  routes?: readonly InternalRouter[];
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
    if (o.routes === undefined) return this.byPath(req, res, url, path, method);
    const route = matchInternal(o.routes, path);
    if (route === undefined) return notFound(res);
    switch (route.service) {
      case 'ping':
        return this.ping(res);
      case 'prometheus':
        if (o.metrics === undefined || !serveMetrics(req, res, o.metrics)) notFound(res);
        return;
      case 'api':
        return send(res, method, this.api(method, url) ?? null);
      case 'dashboard': {
        // dashboard_redirect@internal, then dashboard_stripprefix@internal, then the service.
        const to = dashboardRedirect(req.headers.host ?? '', url);
        if (to !== null) return redirect(res, method, to);
        if (path === '/dashboard') return send(res, method, DASHBOARD_NO_SLASH);
        if (method !== 'GET' && method !== 'HEAD') return notFound(res);
        return send(res, method, dashboardFile(dashboardStripPrefix(path)));
      }
    }
  }

  /**
   * The internal server that routers naming api@internal, ping@internal or
   * prometheus@internal forward to: no router of its own, so the path picks.
   */
  private byPath(req: http.IncomingMessage, res: http.ServerResponse, url: string, path: string, method: string): void {
    const o = this.options;
    if (o.ping && path === '/ping' && (method === 'GET' || method === 'HEAD')) return this.ping(res);
    if (o.metrics !== undefined && serveMetrics(req, res, o.metrics)) return;
    if (o.api) {
      if (o.dashboard && path === '/') {
        res.writeHead(302, { location: '/dashboard/', 'content-type': 'text/html; charset=utf-8' });
        res.end('<a href="/dashboard/">Found</a>.\n\n');
        return;
      }
      const answer = this.api(method, url) ?? (o.dashboard && (method === 'GET' || method === 'HEAD') ? serveDashboard(path) : null);
      if (answer !== null) return send(res, method, answer);
    }
    notFound(res);
  }

  private ping(res: http.ServerResponse): void {
    const draining = this.options.isDraining();
    res.writeHead(draining ? 503 : 200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(draining ? 'Service Unavailable' : 'OK');
  }

  private api(method: string, url: string): ApiResponse | null {
    try {
      return handleApi(method, url, this.options.sources);
    } catch (err) {
      return { status: 500, headers: { 'content-type': 'application/json' }, body: `${JSON.stringify({ message: (err as Error).message })}\n` };
    }
  }
}

function send(res: http.ServerResponse, method: string, answer: ApiResponse | null): void {
  if (answer === null) return notFound(res);
  res.writeHead(answer.status, answer.headers);
  res.end(method === 'HEAD' ? undefined : answer.body);
}

function notFound(res: http.ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('404 page not found\n');
}

/** dashboard_redirect@internal is permanent: Traefik's code for it, as the redirect middlewares choose it. */
function redirect(res: http.ServerResponse, method: string, to: string): void {
  res.writeHead(redirectStatus(true, method), { location: to, 'content-type': 'text/html; charset=utf-8' });
  res.end(method === 'HEAD' ? undefined : `<a href="${to.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')}">Moved Permanently</a>.\n\n`);
}
