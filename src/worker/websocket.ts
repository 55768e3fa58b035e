// WebSocket requests on one entry point. The handler (handler.ts) parses,
// routes and runs middlewares as for any request, then hands a WebSocket
// handshake here: a server is chosen by the service's balancer (its sticky
// cookie included), the handshake is done with the server first, and only
// when it switched protocols is the client upgraded, with the server's
// subprotocol, its extra headers, and permessage-deflate if both sides
// offered it. A server that refuses is answered to the client as it came.
import { STATUS_CODES } from 'node:http';
import type { HttpRequest, HttpResponse, us_socket_context_t, WebSocketBehavior } from 'uWebSockets.js';
import uWS from 'uWebSockets.js';
import type WebSocket from 'ws';
import { pickServer } from '../balancer/pick.js';
import { joinPath, type ServerRuntime, type ServiceRuntime } from '../balancer/runtime.js';
import { stickyServer, stickySetCookies, stickyWithin } from '../balancer/sticky.js';
import { tellEnded } from '../middlewares/pipeline.js';
import type { ForwardedRequest } from '../middlewares/types.js';
import type { WorkerObserver } from '../metrics/observe.js';
import type { SharedState } from '../shared/shared-state.js';
import { dialWebSocket, type RefusedHandshake } from '../upstream/websocket-dial.js';
import { After, sendError } from './exchange.js';
import type { AppInflight, EntryPointContext, ParsedRequest } from './request-head.js';
import type { RouteEntry } from './routes.js';
import type { Trace, TracedOutcome } from './trace.js';
import { WebSocketRelay, type RelayLimits, type RelayOwner } from './websocket-relay.js';

/** What a worker's WebSockets share. */
export interface WebSocketRuntime {
  limits: RelayLimits;
  /** Time allowed for the server's handshake, connect included. */
  handshakeTimeoutMs: number;
  /** Open sessions, closed with 1001 when the worker shuts down. */
  readonly sessions: Set<WebSocketRelay>;
  /** A session's server connection ended without a close frame (logged, rate-limited). */
  serverLost(what: string, why: string): void;
}

/** What the handshake needs of the worker (handler.ts's WorkerRuntime has it all). */
export interface WebSocketHost {
  state: SharedState;
  observer: WorkerObserver | null;
  websockets: WebSocketRuntime;
  /** The worker is shutting down: no new session. */
  draining: boolean;
  /** The session or refused handshake is over: rt.inflight (and its app's count) counted it. */
  onFinish(app: AppInflight | null): void;
  internalError(err: unknown): void;
}

interface ClientData {
  relay: WebSocketRelay;
}

/** uWS's message limit: twice portero's, so a message just over it gets a clear 1009 from the relay, not uWS's bare close. */
function uwsPayloadLimit(maxMessageBytes: number): number {
  return Math.min(maxMessageBytes * 2, 0x7fffffff);
}

/** The uWS behavior of an entry point; `upgrade` is the entry point's handler. */
export function webSocketBehavior(
  limits: RelayLimits,
  upgrade: (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => void,
): WebSocketBehavior<ClientData> {
  return {
    maxPayloadLength: uwsPayloadLimit(limits.maxMessageBytes),
    // 0: no limit on uWS's side; the relay pauses the server past its own high-water mark.
    maxBackpressure: 0,
    closeOnBackpressureLimit: 0,
    // Dead clients (a dropped NAT entry) are found by uWS's pings.
    idleTimeout: 120,
    sendPingsAutomatically: true,
    compression: uWS.SHARED_COMPRESSOR,
    upgrade,
    open: (ws) => ws.getUserData().relay.clientOpened(ws),
    message: (ws, message, isBinary) => ws.getUserData().relay.fromClient(message, isBinary),
    drain: (ws) => ws.getUserData().relay.clientDrained(),
    pong: (ws, message) => ws.getUserData().relay.clientPong(message),
    close: (ws, code, message) => ws.getUserData().relay.clientClosed(code, message),
  };
}

/** The first service of the route (or of its twins) with a server to offer, and that server. */
function chooseServer(services: readonly ServiceRuntime[], state: SharedState, cookies: string | null): { service: ServiceRuntime; server: ServerRuntime } | null {
  const pinned = cookies === null ? null : stickyServer(services[0]!, cookies, state);
  if (pinned !== null) return { service: services[0]!, server: pinned };
  for (const service of services) {
    const server = pickServer(service, state, null);
    if (server !== null) return { service, server: cookies === null ? server : stickyWithin(service, server, cookies, state) };
  }
  return null;
}

/** Traefik's X-Forwarded-Proto for a WebSocket: ws or wss, unless a trusted client sent its own. */
function websocketLines(lines: string, proto: 'http' | 'https'): string {
  return lines.replace(`\r\nx-forwarded-proto: ${proto}\r\n`, `\r\nx-forwarded-proto: ${proto === 'https' ? 'wss' : 'ws'}\r\n`);
}

/** What the client's handshake asked, kept for the server's (and a retry's). */
interface HandshakeRequest {
  key: string;
  /** The client's Sec-WebSocket-Extensions, as sent. */
  extensions: string;
  protocols: string[];
  lines: string;
  hostHeader: string;
  target: string;
  context: us_socket_context_t;
  /** The client's Cookie header when the service keeps sticky cookies, else null. */
  cookies: string | null;
}

/** One handshake, from the handler's hand-over until the session opens or the client is answered. */
class Handshake implements TracedOutcome, RelayOwner {
  status = 0;
  originStatus = 0;
  retries = 0;
  originStart = 0;
  bytesOut = 0;
  bytesIn = 0;
  readonly websocket = true;
  private aborted = false;
  private finished = false;
  private cancel: (() => void) | null = null;
  private relay: WebSocketRelay | null = null;
  /** The uWS app's count (TLS entry points), given back at the end. */
  appInflight: AppInflight | null = null;
  /** Servers whose connection failed before the request went out. */
  private tried: ServerRuntime[] | null = null;

  constructor(
    private readonly host: WebSocketHost,
    private readonly res: HttpResponse,
    readonly service: ServiceRuntime,
    /** The server asked now; another one after a failed connect. */
    public server: ServerRuntime,
    private readonly trace: Trace | null,
    private readonly fr: ForwardedRequest | null,
    private readonly request: HandshakeRequest,
  ) {
    res.onAborted(() => {
      this.aborted = true;
      this.cancel?.();
      this.finish(0);
    });
  }

  start(): void {
    if (this.trace !== null) this.originStart = performance.now();
    this.dial();
  }

  private dial(): void {
    const rt = this.host.websockets;
    const server = this.server;
    const r = this.request;
    const deflate = /permessage-deflate/i.test(r.extensions);
    this.cancel = dialWebSocket(
      { host: server.pool.host, port: server.pool.port, tls: server.pool.tls, target: server.pathPrefix === '' ? r.target : joinPath(server.pathPrefix, r.target) },
      {
        lines: r.lines,
        host: server.passHostHeader ? r.hostHeader : server.authority,
        protocols: r.protocols,
        deflate,
        maxMessageBytes: rt.limits.maxMessageBytes,
        timeoutMs: rt.handshakeTimeoutMs,
      },
      {
        opened: (ws, headers) => this.guarded(() => this.opened(ws, headers, deflate ? r.extensions : '')),
        refused: (answer) => this.guarded(() => this.refused(answer)),
        failed: (status, reason, unsent) => this.guarded(() => this.failed(status, reason, unsent)),
      },
    ).cancel;
  }

  private guarded(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.host.internalError(err);
      if (!this.aborted && this.status === 0) {
        try {
          this.res.close();
        } catch {
          /* already gone */
        }
      }
      this.relay?.closeBoth(1011, 'internal error');
      this.finish(this.status === 0 ? 500 : this.status);
    }
  }

  private opened(ws: WebSocket, headers: [string, string][], extensions: string): void {
    if (this.aborted) {
      ws.terminate();
      return;
    }
    const rt = this.host.websockets;
    // The server accepted deflate only if its answer names it; the client then gets it from uWS too.
    const clientExtensions = ws.extensions.includes('permessage-deflate') ? extensions : '';
    const relay = new WebSocketRelay(ws, this, rt.limits, clientExtensions !== '');
    this.relay = relay;
    this.status = 101;
    this.originStatus = 101;
    this.host.state.addInflight(this.server.slot, 1);
    rt.sessions.add(relay);
    this.server.pool.attach(relay);
    const h: string[] = [];
    for (const [name, value] of headers) h.push(name, value);
    const cookies = this.request.cookies;
    const set = cookies === null ? null : stickySetCookies(this.service, this.server, cookies);
    if (set !== null) for (const c of set) h.push('set-cookie', c);
    // The router's response edits (customResponseHeaders) apply to the 101 as to any answer.
    const edits = this.fr?.responseEdits;
    if (edits != null) for (const edit of edits) edit(h);
    this.res.cork(() => {
      this.res.writeStatus('101 Switching Protocols');
      for (let i = 0; i + 1 < h.length; i += 2) this.res.writeHeader(h[i]!, h[i + 1]!);
      this.res.upgrade<ClientData>({ relay }, this.request.key, ws.protocol, clientExtensions, this.request.context);
    });
  }

  private refused(a: RefusedHandshake): void {
    if (this.aborted) return;
    this.status = a.status;
    this.originStatus = a.status;
    this.bytesOut = a.body.length;
    this.res.cork(() => {
      this.res.writeStatus(`${a.status} ${a.statusText || STATUS_CODES[a.status] || ''}`);
      for (const [name, value] of a.headers) this.res.writeHeader(name, value);
      this.res.end(a.body);
    });
    this.finish(a.status);
  }

  private failed(status: 502 | 504, _reason: string, unsent: boolean): void {
    if (this.aborted) return;
    if (unsent) {
      // Nothing reached the server (a replica that just stopped): the next one is asked, as for any request.
      (this.tried ??= []).push(this.server);
      const next = pickServer(this.service, this.host.state, this.tried);
      if (next !== null) {
        this.server = next;
        this.retries++;
        this.dial();
        return;
      }
    }
    this.status = status;
    sendError(this.res, status, STATUS_CODES[status]!);
    this.finish(status);
  }

  /** The relay's session ended. */
  ended(relay: WebSocketRelay, _code: number): void {
    if (relay.serverLost !== null) this.host.websockets.serverLost(`WebSocket session to ${this.server.url} lost its server without a close frame`, relay.serverLost);
    this.bytesOut = relay.bytesToClient;
    this.bytesIn = relay.bytesToServer;
    this.host.websockets.sessions.delete(relay);
    this.server.pool.detach(relay);
    this.host.state.addInflight(this.server.slot, -1);
    this.finish(101);
  }

  private finish(status: number): void {
    if (this.finished) return;
    this.finished = true;
    tellEnded(this.fr, status, this.originStatus);
    if (this.trace !== null && this.host.observer !== null) this.host.observer.ended(this, this.trace);
    // For the dashboard, as an Exchange counts a request: the session (or refused handshake) of the server's service.
    this.host.state.countRequest(this.server.service, status >= 500);
    this.host.onFinish(this.appInflight);
  }
}

/**
 * Starts a routed WebSocket handshake (the caller counted it in rt.inflight).
 * `req` may be a detached copy when a middleware took its time.
 */
export function startWebSocket(
  host: WebSocketHost,
  ep: EntryPointContext,
  res: HttpResponse,
  req: HttpRequest,
  parsed: ParsedRequest,
  route: RouteEntry,
  fr: ForwardedRequest | null,
  t0: number,
  context: us_socket_context_t,
): void {
  const headers = parsed.view.headers;
  const first = route.services[0]!;
  const cookies = first.usesCookies ? (headers.cookie ?? '') : null;
  // A worker that is shutting down opens no session it would close at once.
  const choice = host.draining ? null : chooseServer(route.services, host.state, cookies);
  if (choice === null) {
    tellEnded(fr, 503);
    if (host.observer !== null) host.observer.answered(ep, req, res, parsed, parsed.method, 503, 19, t0);
    sendError(res, 503, 'Service Unavailable', host.draining ? After.Close : After.Keep);
    host.state.countRequest(first.rr, true);
    host.onFinish(ep.appInflight);
    return;
  }
  const trace = host.observer === null ? null : host.observer.begin(ep, req, parsed, route.name, t0);
  const request: HandshakeRequest = {
    key: headers['sec-websocket-key'] ?? '',
    extensions: headers['sec-websocket-extensions'] ?? '',
    protocols: (headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== ''),
    lines: websocketLines(fr === null ? parsed.lines : fr.lines, ep.proto),
    hostHeader: fr === null ? parsed.hostHeader : fr.hostHeader,
    target: fr === null ? parsed.target : fr.query === '' ? fr.path : `${fr.path}?${fr.query}`,
    context,
    cookies,
  };
  const handshake = new Handshake(host, res, choice.service, choice.server, trace, fr, request);
  handshake.appInflight = ep.appInflight;
  handshake.start();
}

/** Why a request that asked for a WebSocket cannot be one, or null. */
export function invalidHandshake(parsed: ParsedRequest): { status: number; body: string } | null {
  if (parsed.method !== 'GET') return { status: 400, body: 'Bad Request: a WebSocket handshake is a GET' };
  if (parsed.bodyLength > 0 || parsed.bodyLength === -2) return { status: 400, body: 'Bad Request: a WebSocket handshake has no body' };
  const h = parsed.view.headers;
  if (h['sec-websocket-version'] !== '13') return { status: 426, body: 'Upgrade Required: Sec-WebSocket-Version 13 only' };
  if (!/^[A-Za-z0-9+/]{22}==$/.test(h['sec-websocket-key'] ?? '')) return { status: 400, body: 'Bad Request: invalid Sec-WebSocket-Key' };
  return null;
}

