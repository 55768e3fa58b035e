// The `traefik` entry point, served by the main thread: /ping for health
// probes, and with --api the redirect to the dashboard and the raw data.
// Never on the request path of proxied traffic.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TablePublisher } from '../table/publisher.js';

export interface ApiOptions {
  host: string;
  port: number;
  ping: boolean;
  api: boolean;
  publisher: TablePublisher;
  /** True once shutdown began: /ping answers 503 so load balancers stop sending. */
  isDraining(): boolean;
}

export class ApiServer {
  private readonly server: http.Server;

  constructor(private readonly options: ApiOptions) {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host === '' ? undefined : this.options.host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    const o = this.options;
    if (o.ping && path === '/ping' && (req.method === 'GET' || req.method === 'HEAD')) {
      const draining = o.isDraining();
      res.writeHead(draining ? 503 : 200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(draining ? 'Service Unavailable' : 'OK');
      return;
    }
    if (o.api && path === '/') {
      res.writeHead(302, { location: '/dashboard/', 'content-type': 'text/html; charset=utf-8' });
      res.end('<a href="/dashboard/">Found</a>.\n\n');
      return;
    }
    if (o.api && path === '/api/rawdata') {
      const c = o.publisher.current;
      const body = {
        routers: Object.fromEntries(c?.routerStatus ?? []),
        services: Object.fromEntries(c?.serviceStatus ?? []),
        errors: c?.errors ?? [],
        generation: o.publisher.generation,
      };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('404 page not found\n');
  }
}
