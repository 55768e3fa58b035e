// A tiny stand-in for Traefik's whoami: answers every request with who
// served it and what it received. Used by `npm run demo`, the tests, and the
// Swarm test image. Run directly: node dist/src/demo/whoami.js [port] [name]
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { pathToFileURL } from 'node:url';

export interface Whoami {
  name: string;
  port: number;
  /** Stops at once, dropping connections. */
  close(): Promise<void>;
  /** Stops accepting, lets in-flight requests finish, closes idle connections. */
  drain(): Promise<void>;
}

function addresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) out.push(a.address);
  return out;
}

export function whoamiBody(name: string, req: http.IncomingMessage): string {
  const lines = [`Hostname: ${name}`, ...addresses().map((a) => `IP: ${a}`), `RemoteAddr: ${req.socket.remoteAddress}:${req.socket.remotePort}`];
  lines.push(`${req.method} ${req.url} HTTP/${req.httpVersion}`);
  for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export function startWhoami(name: string, port = 0, host = '127.0.0.1'): Promise<Whoami> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(whoamiBody(name, req));
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      resolve({
        name,
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
        drain: () =>
          new Promise((r) => {
            server.close(() => r());
            server.closeIdleConnections();
          }),
      });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const port = Number(process.argv[2] ?? 80);
  const name = process.argv[3] ?? os.hostname();
  const w = await startWhoami(name, port, '0.0.0.0');
  console.log(`whoami ${w.name} listening on :${w.port}`);
  // Graceful, like a well-behaved replica during a rolling update: finish
  // in-flight requests, close idle keep-alive connections, then exit.
  const stop = () => void w.drain().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
