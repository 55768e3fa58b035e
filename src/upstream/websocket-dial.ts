// The server side of a proxied WebSocket: the opening handshake with one
// server, through the `ws` library. Its outcome is one of three events: the
// server accepted (its protocol, extensions and extra headers are known), it
// answered something other than 101 (that answer goes to the client as it
// came), or it could not be reached (502, or 504 when it did not answer in time).
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { tlsOptions, type UpstreamTlsOptions } from './connection.js';

export interface DialTarget {
  host: string;
  port: number;
  /** wss:// with these settings; null: ws://. */
  tls: UpstreamTlsOptions | null;
  /** Path and query, as forwarded. */
  target: string;
}

export interface DialOptions {
  /** Header lines to send ("name: value\r\n", lower-case names); the WebSocket handshake headers are ws's own. */
  lines: string;
  host: string;
  /** The client's Sec-WebSocket-Protocol list, as sent. */
  protocols: string[];
  /** The client offered permessage-deflate: offer it to the server too. */
  deflate: boolean;
  /** Longest message taken from the server. */
  maxMessageBytes: number;
  /** Time allowed for the handshake (connect included). */
  timeoutMs: number;
}

/** What the server answered instead of 101. */
export interface RefusedHandshake {
  status: number;
  statusText: string;
  /** Raw header pairs, hop-by-hop ones removed. */
  headers: [string, string][];
  body: Buffer;
}

export interface DialEvents {
  /** The server switched protocols; `ws` is open. `headers` are its extra response headers (cookies and the like). */
  opened(ws: WebSocket, headers: [string, string][]): void;
  refused(answer: RefusedHandshake): void;
  /**
   * No handshake: 502 (connect or protocol error) or 504 (timed out), with
   * why. `unsent`: the connection failed before the request went out (refused,
   * reset, TLS), so another server may be asked.
   */
  failed(status: 502 | 504, reason: string, unsent: boolean): void;
}

/** Body kept of a refused handshake's answer; the rest is dropped. */
const MAX_REFUSAL_BODY = 64 * 1024;

/** Sent by ws itself, or framing of the relay's own: never copied from the client or to it. */
const SKIP_REQUEST = new Set(['sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions', 'sec-websocket-protocol', 'host']);
const SKIP_RESPONSE = new Set([
  'connection',
  'upgrade',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'date',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
]);

function requestHeaders(lines: string, host: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = { host };
  let at = 0;
  while (at < lines.length) {
    const end = lines.indexOf('\r\n', at);
    const colon = lines.indexOf(':', at);
    const name = lines.slice(at, colon);
    at = end + 2;
    if (SKIP_REQUEST.has(name)) continue;
    const value = lines.slice(colon + 1, end).trim();
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev, value];
  }
  return out;
}

function responseHeaders(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!SKIP_RESPONSE.has(raw[i].toLowerCase())) out.push([raw[i], raw[i + 1]]);
  }
  return out;
}

/** A refused handshake's body, bounded: what the server sent within MAX_REFUSAL_BODY. */
function readRefusal(res: IncomingMessage, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    res.destroy();
    done(Buffer.concat(chunks));
  };
  res.on('data', (c: Buffer) => {
    if (size < MAX_REFUSAL_BODY) chunks.push(c.subarray(0, MAX_REFUSAL_BODY - size));
    size += c.length;
    if (size >= MAX_REFUSAL_BODY) finish();
  });
  res.on('end', finish);
  res.on('error', finish);
  res.on('close', finish);
}

/** Starts the handshake; exactly one of `events` is called, unless `cancel()` (the returned function) comes first. */
export function dialWebSocket(to: DialTarget, o: DialOptions, events: DialEvents): { cancel(): void } {
  let settled = false;
  const settle = (): boolean => {
    if (settled) return false;
    settled = true;
    return true;
  };
  const host = to.host.includes(':') ? `[${to.host}]` : to.host;
  const url = `${to.tls === null ? 'ws' : 'wss'}://${host}:${to.port}${to.target}`;
  let ws: WebSocket;
  try {
    ws = new WebSocket(url, o.protocols, {
      headers: requestHeaders(o.lines, o.host),
      perMessageDeflate: o.deflate,
      maxPayload: o.maxMessageBytes,
      handshakeTimeout: o.timeoutMs > 0 ? o.timeoutMs : undefined,
      followRedirects: false,
      // The client checks UTF-8 itself; the relay passes text as it came, as a tunnel would.
      skipUTF8Validation: true,
      // Pings from the server are relayed to the client, whose pongs come back (see worker/websocket-relay.ts).
      autoPong: false,
      ...(to.tls === null ? {} : tlsOptions(to.host, to.tls)),
    });
  } catch (err) {
    // A target or protocol list ws refuses: nothing was sent.
    queueMicrotask(() => settle() && events.failed(502, (err as Error).message, false));
    return { cancel: () => void settle() };
  }
  let extra: [string, string][] = [];
  let answered = false;
  ws.on('upgrade', (res: IncomingMessage) => {
    answered = true;
    extra = responseHeaders(res.rawHeaders);
  });
  ws.on('open', () => {
    if (settle()) events.opened(ws, extra);
  });
  ws.on('unexpected-response', (_req, res: IncomingMessage) => {
    answered = true;
    if (settled) return;
    readRefusal(res, (body) => {
      if (!settle()) return;
      events.refused({ status: res.statusCode ?? 502, statusText: res.statusMessage ?? '', headers: responseHeaders(res.rawHeaders), body });
    });
  });
  ws.on('error', (err: Error & { code?: string }) => {
    if (!settle()) return;
    const timedOut = /timed out/i.test(err.message) || err.code === 'ETIMEDOUT';
    // Socket and TLS errors carry a code; ws's own checks of the server's answer (WS_ERR_*, or none) come after it answered.
    const unsent = !timedOut && !answered && typeof err.code === 'string' && !err.code.startsWith('WS_ERR');
    events.failed(timedOut ? 504 : 502, err.message, unsent);
  });
  return {
    cancel() {
      if (!settle()) return;
      ws.removeAllListeners('open');
      ws.on('error', () => {});
      ws.terminate();
    },
  };
}
