// An entry point named by --metrics.prometheus.entryPoint other than
// `traefik` (Traefik's usual "metrics" entry point on :8082): served by the
// main thread, it answers GET/HEAD /metrics and 404 to everything else.
// Routers are not served on it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONTENT_TYPE } from './exposition.js';

/** Answers /metrics on a node:http request; false when the path is not /metrics. */
export function serveMetrics(req: http.IncomingMessage, res: http.ServerResponse, render: () => string): boolean {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics') return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    res.end('Method Not Allowed\n');
    return true;
  }
  const body = render();
  res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}

export class MetricsServer {
  private readonly server: http.Server;

  constructor(
    private readonly host: string,
    private readonly port: number,
    render: () => string,
  ) {
    this.server = http.createServer((req, res) => {
      if (serveMetrics(req, res, render)) return;
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('404 page not found\n');
    });
    this.server.keepAliveTimeout = 5000;
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.host === '' ? undefined : this.host, () => {
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
}
