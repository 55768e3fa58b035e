// WebSocket servers and clients for tests, on loopback, with the `ws` library.
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer, type ServerOptions } from 'ws';

export interface EchoServer {
  port: number;
  url: string;
  wss: WebSocketServer;
  /** Handshake requests received, in order. */
  handshakes: IncomingMessage[];
  /** Close codes and reasons the server saw, in order. */
  closes: { code: number; reason: string }[];
  close(): Promise<void>;
}

/**
 * An echo server: every message comes back as it came (text or binary). A
 * message "close:<code>:<reason>" makes it close with that code; "ping:<data>"
 * makes it ping the client and answer "pong:<data>" when the pong arrives;
 * "name" answers with the server's `name`; "vanish" drops the connection
 * without a close frame.
 */
export async function echoServer(name = 'echo', options: ServerOptions = {}): Promise<EchoServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  return served(wss, name, (wss.address() as { port: number }).port, (done) => wss.close(() => done()));
}

/** The echo on `wss`, reached at `port`; close() cuts the clients, then `stop` closes what listens. */
function served(wss: WebSocketServer, name: string, port: number, stop: (done: () => void) => void): EchoServer {
  const { handshakes, closes } = echoOn(wss, name);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    wss,
    handshakes,
    closes,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        stop(resolve);
      }),
  };
}

/** Makes every connection of `wss` an echo, as `echoServer` describes. */
function echoOn(wss: WebSocketServer, name: string): Pick<EchoServer, 'handshakes' | 'closes'> {
  const handshakes: IncomingMessage[] = [];
  const closes: { code: number; reason: string }[] = [];
  wss.on('connection', (ws, req) => {
    handshakes.push(req);
    ws.on('error', () => {});
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) {
        const text = data.toString();
        if (text.startsWith('close:')) {
          const [, code, reason] = text.split(':');
          ws.close(Number(code), reason);
          return;
        }
        if (text.startsWith('ping:')) {
          ws.once('pong', (d: Buffer) => ws.send(`pong:${d.toString()}`));
          ws.ping(text.slice(5));
          return;
        }
        if (text === 'vanish') {
          ws.terminate();
          return;
        }
        if (text === 'name') {
          ws.send(name);
          return;
        }
      }
      ws.send(data, { binary: isBinary });
    });
    ws.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }));
  });
  return { handshakes, closes };
}

/**
 * The same echo on an HTTP server that also answers GET / with `html` (any
 * other plain request gets a 404): a page and its WebSocket on one origin,
 * for a browser. `options` are the WebSocketServer's (noServer is implied).
 */
export async function echoPageServer(html: string, name = 'echo', options: Omit<ServerOptions, 'host' | 'port' | 'server' | 'noServer'> = {}): Promise<EchoServer> {
  const wss = new WebSocketServer({ ...options, noServer: true });
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/' || req.url?.startsWith('/?'))) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(html);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return served(wss, name, (server.address() as AddressInfo).port, (done) => {
    wss.close();
    server.closeAllConnections();
    server.close(() => done());
  });
}

export interface ClientOptions {
  host?: string;
  protocols?: string[];
  headers?: Record<string, string>;
  perMessageDeflate?: boolean;
  maxPayload?: number;
}

/** Opens a client through portero; rejects with the refusal's status when the handshake fails. */
export function connect(port: number, path: string, o: ClientOptions = {}): Promise<{ ws: WebSocket; upgrade: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, o.protocols ?? [], {
      headers: { host: o.host ?? 'ws.test', ...(o.headers ?? {}) },
      perMessageDeflate: o.perMessageDeflate ?? false,
      maxPayload: o.maxPayload ?? 256 * 1024 * 1024,
    });
    let upgrade: IncomingMessage | null = null;
    ws.once('upgrade', (res) => (upgrade = res));
    ws.once('open', () => resolve({ ws, upgrade: upgrade! }));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => reject(Object.assign(new Error(`handshake refused: ${res.statusCode}`), { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() })));
    });
    ws.once('error', reject);
  });
}

/** The next message on `ws`, within `ms`. */
export function nextMessage(ws: WebSocket, ms = 10_000): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      ws.off('message', on);
      reject(new Error(`no message within ${ms} ms`));
    }, ms);
    const on = (data: Buffer, isBinary: boolean) => {
      clearTimeout(t);
      resolve({ data, isBinary });
    };
    ws.once('message', on);
  });
}

/** How `ws` closed, within `ms`. */
export function closed(ws: WebSocket, ms = 10_000): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    if (ws.readyState === WebSocket.CLOSED) {
      reject(new Error('already closed'));
      return;
    }
    const t = setTimeout(() => reject(new Error(`not closed within ${ms} ms`)), ms);
    ws.on('error', () => {});
    ws.once('close', (code, reason) => {
      clearTimeout(t);
      resolve({ code, reason: reason.toString() });
    });
  });
}
