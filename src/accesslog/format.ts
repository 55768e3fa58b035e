// Access log lines in Traefik's formats. Field names, their order in the
// common line and their units in JSON follow Traefik's access log, so the
// tools that read Traefik's logs read these:
//
// common:     <client> - <user> [<start>] "<method> <path> <proto>" <status> <size> "<referer>" "<user-agent>"
//             <request count> "<router>" "<server url>" <duration>ms
// genericCLF: the same up to the user agent (plain Combined Log Format)
// json:       one object per line; durations in nanoseconds, times in RFC 3339.
import type { AccessLogFormat } from '../config/static.js';

export interface AccessLogEntry {
  /** When the request arrived, ms since the epoch (fractional). */
  startMs: number;
  /** From arrival to the end of the response, ms. */
  durationMs: number;
  /** Time spent with the server, ms; -1 when no server was asked. */
  originDurationMs: number;
  clientHost: string;
  method: string;
  /** Request target as received: path and query. */
  path: string;
  protocol: string;
  /** The Host header as sent ("" when none). */
  host: string;
  /** Status sent to the client. */
  status: number;
  /** Status the server sent; 0 when portero answered by itself. */
  originStatus: number;
  /** Response body bytes sent to the client. */
  size: number;
  /** Request body bytes received from the client. */
  requestSize: number;
  referer: string;
  userAgent: string;
  /** Requests received (all workers) up to and including this one. */
  requestCount: number;
  /** "" when no router matched. */
  router: string;
  /** "" when no service was reached. */
  service: string;
  serviceUrl: string;
  /** host:port of the server. */
  serviceAddr: string;
  entryPoint: string;
  retries: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** "26/Nov/2026:03:06:21 +0000": CLF's time, in UTC as Traefik's StartUTC. */
export function clfTime(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`;
}

/** RFC 3339 with nanosecond digits as Go prints them (trailing zeros dropped), UTC. */
export function rfc3339Nano(ms: number): string {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString(); // 2026-11-26T03:06:21.143Z
  const nanos = Math.round((ms - whole) * 1e6) + (whole % 1000) * 1e6;
  const frac = String(Math.min(nanos, 999_999_999)).padStart(9, '0').replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac === '' ? '' : `.${frac}`}Z`;
}

/** RFC 3339 in the machine's zone, seconds precision (logrus' "time"). */
function localTime(ms: number, nano: boolean): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  if (off === 0) return nano ? rfc3339Nano(ms) : `${d.toISOString().slice(0, 19)}Z`;
  const sign = off > 0 ? '+' : '-';
  const abs = Math.abs(off);
  const local = new Date(ms + off * 60_000).toISOString().slice(0, 19);
  const frac = nano ? rfc3339Nano(ms).slice(19, -1) : '';
  return `${local}${frac}${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

function quoted(s: string): string {
  return s === '' ? '"-"' : `"${s}"`;
}

function dash(s: string): string {
  return s === '' ? '-' : s;
}

function clf(e: AccessLogEntry): string {
  return `${dash(e.clientHost)} - - [${clfTime(e.startMs)}] "${dash(e.method)} ${dash(e.path)} ${dash(e.protocol)}" ${e.status} ${e.size} ${quoted(e.referer)} ${quoted(e.userAgent)}`;
}

/** Host header to [host, port] ("" when absent); IPv6 brackets removed. */
function hostAndPort(host: string): [string, string] {
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) return [host, ''];
    const rest = host.slice(close + 1);
    return [host.slice(1, close), rest.startsWith(':') ? rest.slice(1) : ''];
  }
  const colon = host.lastIndexOf(':');
  return colon < 0 ? [host, ''] : [host.slice(0, colon), host.slice(colon + 1)];
}

const NS_PER_MS = 1e6;

function json(e: AccessLogEntry, now: number): string {
  const [requestHost, requestPort] = hostAndPort(e.host);
  const durationNs = Math.round(e.durationMs * NS_PER_MS);
  // Keys in Go's order for a map: sorted, upper case before lower case.
  const o: Record<string, string | number> = {
    ClientAddr: e.clientHost,
    ClientHost: e.clientHost,
    ClientUsername: '-',
    DownstreamContentSize: e.size,
    DownstreamStatus: e.status,
    Duration: durationNs,
  };
  if (e.originDurationMs >= 0) {
    o.OriginContentSize = e.originStatus === 0 ? 0 : e.size;
    o.OriginDuration = Math.round(e.originDurationMs * NS_PER_MS);
    o.OriginStatus = e.originStatus;
    o.Overhead = Math.max(0, durationNs - (o.OriginDuration as number));
  } else {
    o.Overhead = durationNs;
  }
  o.RequestAddr = e.host;
  o.RequestContentSize = e.requestSize;
  o.RequestCount = e.requestCount;
  o.RequestHost = requestHost;
  o.RequestMethod = e.method;
  o.RequestPath = e.path;
  o.RequestPort = requestPort === '' ? '-' : requestPort;
  o.RequestProtocol = e.protocol;
  o.RequestScheme = 'http';
  o.RetryAttempts = e.retries;
  if (e.router !== '') o.RouterName = e.router;
  if (e.serviceAddr !== '') o.ServiceAddr = e.serviceAddr;
  if (e.service !== '') o.ServiceName = e.service;
  if (e.serviceUrl !== '') o.ServiceURL = e.serviceUrl;
  o.StartLocal = localTime(e.startMs, true);
  o.StartUTC = rfc3339Nano(e.startMs);
  o.entryPointName = e.entryPoint;
  o.level = 'info';
  o.msg = '';
  o.time = localTime(now, false);
  return JSON.stringify(o);
}

/** One access log line, without its newline. `now` is when it is written (JSON's "time"). */
export function formatAccessLog(e: AccessLogEntry, format: AccessLogFormat, now = Date.now()): string {
  switch (format) {
    case 'json':
      return json(e, now);
    case 'genericCLF':
      return clf(e);
    default:
      return `${clf(e)} ${e.requestCount} ${quoted(e.router)} ${quoted(e.serviceUrl)} ${Math.floor(e.durationMs)}ms`;
  }
}
