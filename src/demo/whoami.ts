// A tiny stand-in for Traefik's whoami: answers every request with who
// served it and what it received, and, like Traefik's, serves a WebSocket
// echo on /echo. Used by `npm run demo`, the tests, and the Swarm test image.
// Run directly: node dist/src/demo/whoami.js [port] [name]
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';

export interface Whoami {
  name: string;
  port: number;
  /** Stops at once, dropping connections (WebSockets included, without a close frame). */
  close(): Promise<void>;
  /**
   * Stops accepting, lets in-flight requests finish, closes idle connections,
   * and closes open WebSockets with 1001 (going away), cutting any that has
   * not finished its closing handshake within 5 s.
   */
  drain(): Promise<void>;
  /** WebSockets open on /echo. */
  readonly websockets: number;
}

/** How long drain() waits for a WebSocket's closing handshake before cutting it. */
const CLOSE_GRACE_MS = 5_000;

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

function answer(name: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(whoamiBody(name, req));
}

/**
 * The echo on /echo. Traefik's whoami sends every message back as it came;
 * this one does so for binary messages, and answers a text message M with
 *
 *   ack <M> <name> <n>
 *
 * where <name> is the replica's name (its hostname when run directly, so a
 * Swarm task's container ID) and <n> counts the messages this WebSocket has
 * received, 1 for the first. A client that sends in order can so tell which
 * replica took each message, and that nothing was lost or reordered between
 * them on the way in (n is the message's place among those it sent on this
 * WebSocket) or on the way back (the acks' n go up by one). Messages that
 * arrive after this side started closing are not answered (not acked).
 *
 * drain() closes with 1001 and the reason "going away: received <r>,
 * answered <a>", the counts at that moment, so a client can also check
 * that every answer sent before the close reached it.
 */
interface EchoSession {
  received: number;
  answered: number;
}

function echo(ws: WebSocket, name: string, sessions: Map<WebSocket, EchoSession>): void {
  const s: EchoSession = { received: 0, answered: 0 };
  sessions.set(ws, s);
  ws.on('error', () => {});
  ws.on('close', () => sessions.delete(ws));
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    s.received++;
    if (ws.readyState !== ws.OPEN) return;
    s.answered++;
    if (isBinary) ws.send(data, { binary: true });
    else ws.send(`ack ${data.toString()} ${name} ${s.received}`);
  });
}

export function startWhoami(name: string, port = 0, host = '127.0.0.1'): Promise<Whoami> {
  let closing = false;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(name, req, res));
  });
  server.keepAliveTimeout = 60_000;
  const wss = new WebSocketServer({ noServer: true, clientTracking: true });
  const sessions = new Map<WebSocket, EchoSession>();
  // With an 'upgrade' listener, every request asking for an upgrade comes here.
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {});
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/echo' && req.headers.upgrade?.toLowerCase() === 'websocket') {
      if (closing) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => echo(ws, name, sessions));
      return;
    }
    // Any other path (or protocol): the normal answer, as Traefik's whoami gives, then the connection closes.
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    res.on('finish', () => {
      res.detachSocket(socket);
      socket.end();
    });
    answer(name, req, res);
  });
  /**
   * Closes every WebSocket with 1001 and resolves once their closing
   * handshakes are done (or cut after CLOSE_GRACE_MS): exiting earlier can
   * lose the close frames, since a stopped container's network goes with it.
   */
  const goAway = (): Promise<void> => {
    if (wss.clients.size === 0) return Promise.resolve();
    const closed = [...wss.clients].map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
    for (const ws of wss.clients) {
      const s = sessions.get(ws);
      ws.close(1001, s === undefined ? 'going away' : `going away: received ${s.received}, answered ${s.answered}`);
    }
    const cut = setTimeout(() => {
      for (const ws of wss.clients) ws.terminate();
    }, CLOSE_GRACE_MS);
    cut.unref();
    return Promise.all(closed).then(() => clearTimeout(cut));
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      resolve({
        name,
        port: (server.address() as AddressInfo).port,
        get websockets() {
          return wss.clients.size;
        },
        close: () =>
          new Promise((r) => {
            closing = true;
            server.close(() => r());
            server.closeAllConnections();
            for (const ws of wss.clients) ws.terminate();
          }),
        drain: () => {
          closing = true;
          const httpDone = new Promise<void>((r) => server.close(() => r()));
          server.closeIdleConnections();
          return Promise.all([httpDone, goAway()]).then(() => undefined);
        },
      });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const port = Number(process.argv[2] ?? 80);
  const name = process.argv[3] ?? os.hostname();
  const w = await startWhoami(name, port, '0.0.0.0');
  console.log(`whoami ${w.name} listening on :${w.port}`);
  // Graceful, like a well-behaved replica during a rolling update: close the
  // WebSockets with 1001 (going away), finish in-flight requests, close idle
  // keep-alive connections, then exit.
  const stop = (signal: string) => {
    console.log(`whoami ${w.name}: ${signal}, closing ${w.websockets} WebSockets with 1001`);
    void w.drain().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
