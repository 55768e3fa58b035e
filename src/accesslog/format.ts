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

/**
 * A string per whole second, cached for the last two seconds seen: the lines
 * of a batch mostly share their start second, and the batch's write time
 * (JSON's "time") is another.
 */
function perSecond(make: (second: number) => string): (ms: number) => string {
  let s0 = NaN;
  let t0 = '';
  let s1 = NaN;
  let t1 = '';
  return (ms) => {
    const sec = Math.floor(ms / 1000);
    if (sec === s0) return t0;
    if (sec === s1) return t1;
    s1 = s0;
    t1 = t0;
    s0 = sec;
    t0 = make(sec);
    return t0;
  };
}

/** "26/Nov/2026:03:06:21 +0000": CLF's time, in UTC as Traefik's StartUTC. */
export const clfTime = perSecond((sec) => {
  const d = new Date(sec * 1000);
  return `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`;
});

/** "2026-11-26T03:06:21" in UTC. */
const utcSecond = perSecond((sec) => new Date(sec * 1000).toISOString().slice(0, 19));

/** The zone offset in minutes east of UTC and its "+01:00" text ("Z" for UTC), refreshed each second. */
const zoneOf = perSecond((sec) => {
  const off = -new Date(sec * 1000).getTimezoneOffset();
  if (off === 0) return '0 Z';
  const abs = Math.abs(off);
  return `${off} ${off > 0 ? '+' : '-'}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
});

/** ".14325": the fraction of a second as Go prints it (nanoseconds, trailing zeros dropped), "" when none. */
function fraction(ms: number): string {
  const nanos = Math.min(Math.round((ms - Math.floor(ms / 1000) * 1000) * 1e6), 999_999_999);
  if (nanos === 0) return '';
  let digits = String(nanos).padStart(9, '0');
  let end = digits.length;
  while (digits.charCodeAt(end - 1) === 48 /* 0 */) end--;
  digits = digits.slice(0, end);
  return `.${digits}`;
}

/** RFC 3339 with nanosecond digits as Go prints them (trailing zeros dropped), UTC. */
export function rfc3339Nano(ms: number): string {
  return `${utcSecond(ms)}${fraction(ms)}Z`;
}

/** RFC 3339 in the machine's zone (logrus' "time" and Traefik's StartLocal). */
function localTime(ms: number, nano: boolean): string {
  const zone = zoneOf(ms);
  const space = zone.indexOf(' ');
  const off = Number(zone.slice(0, space));
  const frac = nano ? fraction(ms) : '';
  if (off === 0) return `${utcSecond(ms)}${frac}Z`;
  return `${new Date(Math.floor(ms / 1000) * 1000 + off * 60_000).toISOString().slice(0, 19)}${frac}${zone.slice(space + 1)}`;
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

/** Whether a string can go between quotes as it is: no quote, backslash, control character or surrogate. */
function plain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 34 || c === 92 || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

/** A JSON string literal; most values need no escaping, and a scan is cheaper than JSON.stringify. */
function str(s: string): string {
  return plain(s) ? `"${s}"` : JSON.stringify(s);
}

/** Built by hand (no object, no generic stringify): the JSON format is the costliest part of the access log. */
function json(e: AccessLogEntry, now: number): string {
  const [requestHost, requestPort] = hostAndPort(e.host);
  const durationNs = Math.round(e.durationMs * NS_PER_MS);
  const client = str(e.clientHost);
  // Keys in the order Go writes a map: sorted, upper case before lower case.
  let out = `{"ClientAddr":${client},"ClientHost":${client},"ClientUsername":"-","DownstreamContentSize":${e.size},"DownstreamStatus":${e.status},"Duration":${durationNs}`;
  if (e.originDurationMs >= 0) {
    const originNs = Math.round(e.originDurationMs * NS_PER_MS);
    out += `,"OriginContentSize":${e.originStatus === 0 ? 0 : e.size},"OriginDuration":${originNs},"OriginStatus":${e.originStatus},"Overhead":${Math.max(0, durationNs - originNs)}`;
  } else {
    out += `,"Overhead":${durationNs}`;
  }
  out +=
    `,"RequestAddr":${str(e.host)},"RequestContentSize":${e.requestSize},"RequestCount":${e.requestCount},"RequestHost":${str(requestHost)}` +
    `,"RequestMethod":${str(e.method)},"RequestPath":${str(e.path)},"RequestPort":${str(requestPort === '' ? '-' : requestPort)}` +
    `,"RequestProtocol":${str(e.protocol)},"RequestScheme":"http","RetryAttempts":${e.retries}`;
  if (e.router !== '') out += `,"RouterName":${str(e.router)}`;
  if (e.serviceAddr !== '') out += `,"ServiceAddr":${str(e.serviceAddr)}`;
  if (e.service !== '') out += `,"ServiceName":${str(e.service)}`;
  if (e.serviceUrl !== '') out += `,"ServiceURL":${str(e.serviceUrl)}`;
  return `${out},"StartLocal":"${localTime(e.startMs, true)}","StartUTC":"${rfc3339Nano(e.startMs)}","entryPointName":${str(e.entryPoint)},"level":"info","msg":"","time":"${localTime(now, false)}"}`;
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
