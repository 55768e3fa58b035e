// Reads what forwarding needs from a uWS request, in one pass over its
// headers: the view rules match on, the header lines to forward (hop-by-hop
// and untrusted X-Forwarded-* removed), and the X-Forwarded-* lines to add.
import type { BlockList } from 'node:net';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { hostPort } from '../rules/host.js';
import type { RequestView } from '../rules/types.js';
import type { RedirectTarget } from './redirect.js';

/**
 * Requests and WebSocket sessions of one uWS app: in flight now, and started
 * ever. A TLS entry point closes an app it replaced once both stand still.
 */
export interface AppInflight {
  n: number;
  started: number;
}

export interface EntryPointContext {
  name: string;
  /** Its position among the entry points workers serve (shared counters). */
  index: number;
  port: number;
  /** X-Forwarded-Proto: "https" on a TLS entry point. */
  proto: 'http' | 'https';
  /** Every request is redirected there, unless a router with a higher priority matches. */
  redirect: RedirectTarget | null;
  /** Pending ACME HTTP-01 challenges (token -> key authorization), on the challenge entry point; else null. */
  challenges: ReadonlyMap<string, string> | null;
  /** X-Forwarded-* from these addresses are kept; null = nobody. */
  trusted: BlockList | null;
  trustAll: boolean;
  /** Value of X-Forwarded-Server. */
  serverName: string;
  /** A request body must arrive within this (0: no limit). */
  readTimeoutMs: number;
  /** The app's count on a TLS entry point; null on plain ones, whose app lives as long as the worker. */
  appInflight: AppInflight | null;
}

export interface ParsedRequest {
  view: RequestView;
  method: string;
  target: string;
  /** The client's Host header as sent (with port), "" when absent. */
  hostHeader: string;
  /** Forwarded header lines, each ending in CRLF, framing excluded. */
  lines: string;
  /** Body framing: -1 none, -2 chunked, else Content-Length (0 included). */
  bodyLength: number;
  /** A reason to refuse the request, or null. */
  invalid: string | null;
  /** The status that answers `invalid`: 400, or 414/431 for a target or head over the limits. */
  invalidStatus: number;
  /** The client sent Connection: close. */
  clientClose: boolean;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'upgrade',
  // uWS answered Expect: 100-continue itself; the body follows regardless.
  'expect',
]);

export function formatClientIp(raw: ArrayBuffer): string {
  const b = new Uint8Array(raw);
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  // IPv4-mapped IPv6 (::ffff:a.b.c.d), as dual-stack listeners report IPv4 clients.
  let mapped = b.length === 16 && b[10] === 0xff && b[11] === 0xff;
  for (let i = 0; mapped && i < 10; i++) if (b[i] !== 0) mapped = false;
  if (mapped) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const groups: string[] = [];
  for (let i = 0; i < b.length; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16));
  // Compress the longest run of zero groups, as RFC 5952 asks.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart === -1) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}

/** Lower-cases, drops the port and a trailing dot: what Host rules compare. */
export function normalizeHost(host: string): string {
  let h = host;
  if (h.charCodeAt(0) === 91 /* [ */) {
    const end = h.indexOf(']');
    h = end === -1 ? h : h.slice(1, end);
  } else {
    const colon = h.indexOf(':');
    if (colon !== -1) h = h.slice(0, colon);
  }
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h.toLowerCase();
}

// RFC 3986 reg-name characters (unreserved, sub-delims, pct-encoded's %), as a lookup table.
const REG_NAME = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%") REG_NAME[c.charCodeAt(0)] = 1;

/**
 * Whether a Host value is an authority: host [":" port], the host a reg-name
 * or a bracketed IP literal. Empty is allowed (RFC 9112 3.2). Spaces, "@",
 * "/" and the like get 400, as nginx answers them.
 */
export function isAuthority(host: string): boolean {
  let i = 0;
  const n = host.length;
  if (n === 0) return true;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    if (close < 2) return false;
    for (i = 1; i < close; i++) {
      const c = host.charCodeAt(i);
      const hex = (c >= 48 && c <= 58) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102) || c === 46;
      if (!hex) return false;
    }
    i = close + 1;
  } else {
    for (; i < n; i++) {
      const c = host.charCodeAt(i);
      if (c === 58 /* : */) break;
      if (c >= 128 || REG_NAME[c] === 0) return false;
    }
  }
  if (i === n) return true;
  if (host.charCodeAt(i) !== 58) return false;
  // A port: digits, possibly none ("host:" is allowed by RFC 3986).
  for (i++; i < n; i++) {
    const c = host.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

// One flat [name, value, ...] list per worker, refilled by every request: no
// closure or dictionary is built per request unless a rule reads headers.
/** Longest request target (path and query) forwarded; longer: 414, as nginx's 8 KiB line limit but roomier. */
export const MAX_TARGET_BYTES = 16 * 1024;
/** Largest header block (names, values, separators) forwarded; larger: 431. */
export const MAX_HEADER_BYTES = 32 * 1024;

const PAIRS: string[] = [];
const collect = (k: string, v: string): void => {
  PAIRS.push(k, v);
};

/** The request as rules see it; `headers` is built only when a matcher asks. Valid during the handler only. */
class View implements RequestView {
  private joined: Record<string, string> | null = null;

  constructor(
    readonly method: string,
    readonly host: string,
    readonly path: string,
    readonly query: string,
    readonly clientIp: string,
  ) {}

  get headers(): Record<string, string> {
    if (this.joined === null) {
      const h: Record<string, string> = {};
      for (let i = 0; i < PAIRS.length; i += 2) {
        const prev = h[PAIRS[i]];
        h[PAIRS[i]] = prev === undefined ? PAIRS[i + 1] : `${prev}, ${PAIRS[i + 1]}`;
      }
      this.joined = h;
    }
    return this.joined;
  }
}

export function parseRequest(req: HttpRequest, res: HttpResponse, ep: EntryPointContext): ParsedRequest {
  const method = req.getCaseSensitiveMethod();
  const path = req.getUrl();
  // This uWS build returns undefined, not "", when there is no query (its typings say string).
  const query = req.getQuery() ?? '';
  const clientIp = formatClientIp(res.getRemoteAddress());
  const connection = req.getHeader('connection');
  // Only a Connection header naming other headers needs parsing; plain keep-alive/close is the norm.
  const connectionTokens =
    connection === '' || connection === 'keep-alive' || connection === 'close' || connection === 'Keep-Alive'
      ? null
      : connection.toLowerCase().split(',').map((t) => t.trim());
  // uWS closes the connection after answering such a request: the answer says so, as HTTP/1.1 asks.
  const clientClose = connection === 'close' || (connectionTokens !== null && connectionTokens.includes('close'));

  let trusted: boolean | null = ep.trustAll ? true : null;
  let hostHeader = '';
  let hosts = 0;
  let lines = '';
  let contentLength = '';
  let transferEncoding = '';
  let invalid: string | null = null;
  let invalidStatus = 400;
  let headerBytes = 0;
  let xff = '';
  let xfHost = '';
  let xfPort = '';
  let xfProto = '';
  let realIp = '';

  PAIRS.length = 0;
  req.forEach(collect);
  for (let i = 0; i < PAIRS.length; i += 2) {
    const k = PAIRS[i];
    const v = PAIRS[i + 1];
    headerBytes += k.length + v.length + 4;
    if (k === 'host') {
      if (++hosts > 1) invalid = 'more than one Host header';
      hostHeader = v;
      continue;
    }
    if (k === 'content-length') {
      if (contentLength !== '' && contentLength !== v) invalid = 'conflicting Content-Length headers';
      contentLength = v;
      continue;
    }
    if (k === 'transfer-encoding') {
      transferEncoding = transferEncoding === '' ? v : `${transferEncoding}, ${v}`;
      continue;
    }
    if (HOP_BY_HOP.has(k)) continue;
    if (connectionTokens !== null && connectionTokens.includes(k)) continue;
    if (k.startsWith('x-forwarded-') || k === 'x-real-ip') {
      trusted ??= ep.trusted !== null && ep.trusted.check(clientIp, clientIp.includes(':') ? 'ipv6' : 'ipv4');
      if (!trusted) continue;
      if (k === 'x-forwarded-for') {
        xff = xff === '' ? v : `${xff}, ${v}`;
        continue;
      }
      if (k === 'x-forwarded-host') xfHost = v;
      else if (k === 'x-forwarded-port') xfPort = v;
      else if (k === 'x-forwarded-proto') xfProto = v;
      else if (k === 'x-real-ip') realIp = v;
      if (k === 'x-forwarded-host' || k === 'x-forwarded-port' || k === 'x-forwarded-proto' || k === 'x-real-ip' || k === 'x-forwarded-server') continue;
    }
    lines += `${k}: ${v}\r\n`;
  }

  // Checked after the loop: a length is cheaper to sum than to test per header.
  if (headerBytes > MAX_HEADER_BYTES) {
    invalid = `request headers larger than ${MAX_HEADER_BYTES} bytes`;
    invalidStatus = 431;
  } else if (path.length + query.length > MAX_TARGET_BYTES) {
    invalid = `request target longer than ${MAX_TARGET_BYTES} bytes`;
    invalidStatus = 414;
  }

  if (invalid === null && !isAuthority(hostHeader)) invalid = `invalid Host header ${JSON.stringify(hostHeader.slice(0, 64))}`;

  let bodyLength = -1;
  if (transferEncoding !== '') {
    if (transferEncoding.trim().toLowerCase() !== 'chunked') invalid ??= `unsupported Transfer-Encoding ${JSON.stringify(transferEncoding)}`;
    else if (contentLength !== '') invalid ??= 'both Content-Length and Transfer-Encoding';
    bodyLength = -2;
  } else if (contentLength !== '') {
    if (!/^\d{1,15}$/.test(contentLength)) invalid ??= `invalid Content-Length ${JSON.stringify(contentLength)}`;
    // Content-Length: 0 is forwarded as such: some servers answer 411 to a POST without a length.
    else bodyLength = Number(contentLength);
  }

  lines +=
    `x-forwarded-for: ${xff === '' ? clientIp : `${xff}, ${clientIp}`}\r\n` +
    `x-forwarded-host: ${xfHost === '' ? hostHeader : xfHost}\r\n` +
    `x-forwarded-port: ${xfPort === '' ? hostPort(hostHeader) || String(ep.port) : xfPort}\r\n` +
    `x-forwarded-proto: ${xfProto === '' ? ep.proto : xfProto}\r\n` +
    `x-forwarded-server: ${ep.serverName}\r\n` +
    `x-real-ip: ${realIp === '' ? clientIp : realIp}\r\n`;

  return {
    view: new View(method, normalizeHost(hostHeader), path, query, clientIp),
    method,
    target: query === '' ? path : `${path}?${query}`,
    hostHeader,
    lines,
    bodyLength,
    invalid,
    invalidStatus,
    clientClose,
  };
}
