// An entry point named by --metrics.prometheus.entryPoint other than
// `traefik` (Traefik's usual "metrics" entry point on :8082): served by the
// main thread, it answers GET/HEAD /metrics and 404 to everything else.
// Routers are not served on it.
import http from 'node:http';
import { CONTENT_TYPE } from './exposition.js';
import { closeServer, listenOn } from '../api/http-server.js';

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
    return listenOn(this.server, this.host, this.port);
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }
}
