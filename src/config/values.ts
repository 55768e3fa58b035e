// Value parsers for static configuration settings. Each takes the raw value
// (a string from the command line or environment, or any YAML value from the
// config file) and `what`, the name of the setting for error messages, and
// either returns the typed value or throws a ConfigUsageError naming it.
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { ConfigUsageError } from './errors.js';

function fail(what: string, problem: string): never {
  throw new ConfigUsageError(`${what}: ${problem}`);
}

function show(raw: unknown): string {
  return JSON.stringify(raw) ?? String(raw);
}

/** Go's strconv.ParseBool spellings, which Traefik accepts. */
const TRUE_WORDS = new Set(['1', 't', 'true']);
const FALSE_WORDS = new Set(['0', 'f', 'false']);

/** Parses a boolean; `null` (a bare YAML key) counts as true, like a bare flag. */
export function parseBool(raw: unknown, what: string): boolean {
  if (typeof raw === 'boolean') return raw;
  if (raw === null) return true;
  if (raw === 1 || raw === 0) return raw === 1;
  if (typeof raw === 'string') {
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
  }
  return fail(what, `invalid boolean ${show(raw)} (use true or false)`);
}

/** A non-empty string (file paths and the like). */
export function parseText(raw: unknown, what: string): string {
  if (typeof raw === 'number') return String(raw);
  if (typeof raw !== 'string' || raw.trim() === '') return fail(what, 'needs a value');
  return raw.trim();
}

/** An integer >= min, given as a number or decimal digits. */
export function parseInteger(raw: unknown, what: string, min: number): number {
  let n = NaN;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'string' && /^\s*[-+]?\d+\s*$/.test(raw)) n = Number(raw);
  if (!Number.isSafeInteger(n)) return fail(what, `invalid integer ${show(raw)}`);
  if (n < min) return fail(what, `must be at least ${min}, got ${n}`);
  return n;
}

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign
  'μs': 1e-3, // U+03BC greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * A duration in milliseconds. Accepts Go's time.ParseDuration syntax
 * ("10s", "1m30s", "500ms", "1.5h") and, as Traefik does, a bare number of
 * seconds (10 or "10"). Negative durations are rejected.
 */
export function parseDuration(raw: unknown, what: string): number {
  if (typeof raw === 'number') {
    if (Number.isFinite(raw) && raw >= 0) return raw * 1000;
    return fail(what, `invalid duration ${show(raw)}`);
  }
  if (typeof raw !== 'string') return fail(what, `invalid duration ${show(raw)}`);
  const text = raw.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  let ms = 0;
  let at = 0;
  DURATION_PART.lastIndex = 0;
  while (at < text.length) {
    DURATION_PART.lastIndex = at;
    const m = DURATION_PART.exec(text);
    if (!m) break;
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    at = DURATION_PART.lastIndex;
  }
  if (text === '' || at !== text.length) {
    return fail(what, `invalid duration ${show(raw)} (use e.g. 10s, 1m30s, 500ms, or a number of seconds)`);
  }
  return ms;
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)*\.?$/i;

export interface ListenAddress {
  /** As given, e.g. ":80". */
  address: string;
  /** "" for all interfaces; IPv6 without brackets. */
  host: string;
  port: number;
}

/**
 * An entry point address: "[host]:port" with host an IPv4 address, a
 * bracketed IPv6 address, a host name, or empty for all interfaces. A "/tcp"
 * suffix (Traefik's protocol marker) is accepted; "/udp" is not supported.
 * Port 0 asks the OS for a free port.
 */
export function parseAddress(raw: unknown, what: string): ListenAddress {
  const address = parseText(raw, what);
  let rest = address;
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const proto = rest.slice(slash + 1).toLowerCase();
    if (proto === 'udp') return fail(what, `UDP entry points are not supported (${show(address)})`);
    if (proto !== 'tcp') return fail(what, `invalid protocol "${proto}" in ${show(address)}`);
    rest = rest.slice(0, slash);
  }
  const colon = rest.lastIndexOf(':');
  if (colon < 0) return fail(what, `invalid address ${show(address)}: expected [host]:port, e.g. ":80"`);
  let host = rest.slice(0, colon);
  const portText = rest.slice(colon + 1);
  if (host.startsWith('[')) {
    if (!host.endsWith(']') || !isIPv6(host.slice(1, -1))) {
      return fail(what, `invalid IPv6 address in ${show(address)}`);
    }
    host = host.slice(1, -1);
  } else if (host.includes(':')) {
    return fail(what, `invalid address ${show(address)}: put IPv6 addresses in brackets, e.g. "[::1]:80"`);
  } else if (host !== '' && !isIPv4(host) && !HOSTNAME.test(host)) {
    return fail(what, `invalid host "${host}" in ${show(address)}`);
  }
  if (!/^\d{1,5}$/.test(portText)) return fail(what, `invalid port "${portText}" in ${show(address)}`);
  const port = Number(portText);
  if (port > 65535) return fail(what, `port ${port} out of range (0-65535) in ${show(address)}`);
  return { address, host, port };
}

/** One IP address or CIDR block, IPv4 or IPv6. */
export function parseIpOrCidr(raw: string, what: string): string {
  const text = raw.trim();
  const slash = text.indexOf('/');
  const ip = slash < 0 ? text : text.slice(0, slash);
  const family = isIP(ip);
  if (family === 0) return fail(what, `invalid IP or CIDR ${show(raw)}`);
  if (slash >= 0) {
    const bits = text.slice(slash + 1);
    const max = family === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) {
      return fail(what, `invalid CIDR ${show(raw)}: prefix length must be 0-${max}`);
    }
  }
  return text;
}

/** A list of IPs/CIDRs: "a,b" or a YAML list. */
/**
 * Traefik's FileOrContent list: PEM given inline, or the path of a file
 * holding it; a comma-separated string or a YAML list. Returns the PEM texts.
 */
/** One FileOrContent item: the text itself when it holds PEM, else the file it names (read's errors propagate). */
export function fileOrContent(text: string, read: (path: string) => string): string {
  return text.includes('-----BEGIN') ? text : read(text);
}

export function parsePemList(raw: unknown, what: string, read: (path: string) => string): string[] {
  let items: unknown[];
  if (Array.isArray(raw)) items = raw;
  else if (typeof raw === 'string') items = raw.includes('-----BEGIN') ? [raw] : raw.split(',');
  else return fail(what, `expected PEM or comma-separated file paths, got ${show(raw)}`);
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') return fail(what, `expected PEM or a file path, got ${show(item)}`);
    const text = item.trim();
    if (text === '') continue;
    let pem: string;
    try {
      pem = fileOrContent(text, read);
    } catch (err) {
      return fail(what, `cannot read ${show(text)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) return fail(what, `${show(text)} holds no PEM certificate`);
    out.push(pem);
  }
  return out;
}

export function parseCidrList(raw: unknown, what: string): string[] {
  let items: unknown[];
  if (Array.isArray(raw)) items = raw;
  else if (typeof raw === 'string') items = raw.split(',');
  else return fail(what, `expected a comma-separated list, got ${show(raw)}`);
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') return fail(what, `invalid IP or CIDR ${show(item)}`);
    if (item.trim() === '') continue;
    out.push(parseIpOrCidr(item, what));
  }
  return out;
}

/** Middleware references, "name" or "name@provider": a comma-separated string or a list (YAML). */
export function parseMiddlewareNames(raw: unknown, what: string): string[] {
  let items: unknown[];
  if (Array.isArray(raw)) items = raw;
  else if (typeof raw === 'string') items = raw.split(',');
  else return fail(what, `expected a comma-separated list of middleware names, got ${show(raw)}`);
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') return fail(what, `invalid middleware name ${show(item)}`);
    const name = item.trim();
    if (name === '') continue;
    // One @ at most, between a name and a provider: anything else can never resolve.
    if (!/^[^\s@]+(@[^\s@]+)?$/.test(name)) return fail(what, `invalid middleware name ${show(name)} (expected name or name@provider)`);
    out.push(name);
  }
  return out;
}

export type StaticLogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** Traefik's level names (any case) mapped to pino's. */
const LOG_LEVELS = new Map<string, StaticLogLevel>([
  ['trace', 'trace'],
  ['debug', 'debug'],
  ['info', 'info'],
  ['warn', 'warn'],
  ['warning', 'warn'],
  ['error', 'error'],
  ['fatal', 'fatal'],
  ['panic', 'fatal'],
]);

export function parseLogLevel(raw: unknown, what: string): StaticLogLevel {
  const level = typeof raw === 'string' ? LOG_LEVELS.get(raw.trim().toLowerCase()) : undefined;
  if (!level) {
    return fail(what, `invalid log level ${show(raw)} (use TRACE, DEBUG, INFO, WARN, ERROR, FATAL or PANIC)`);
  }
  return level;
}

/**
 * A Docker API endpoint: "unix:///absolute/path" or "tcp://host:port". As the
 * Docker client does, "http://host:port" means the same as tcp://, and is
 * returned in that form. Other schemes (https, ssh, npipe) are refused.
 */
export function parseDockerEndpoint(raw: unknown, what: string): string {
  const text = parseText(raw, what);
  const usage = 'use unix:///path/to/docker.sock or tcp://host:port';
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(text);
  if (!m) return fail(what, `invalid Docker endpoint ${show(text)} (${usage})`);
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (scheme === 'unix') {
    if (!rest.startsWith('/') || rest.length < 2 || /[?#]/.test(rest)) {
      return fail(what, `invalid Docker endpoint ${show(text)}: the socket path must be absolute, e.g. unix:///var/run/docker.sock`);
    }
    return `unix://${rest}`;
  }
  if (scheme !== 'tcp' && scheme !== 'http') {
    return fail(what, `unsupported Docker endpoint scheme "${scheme}" in ${show(text)} (${usage})`);
  }
  const hostPort = rest.endsWith('/') ? rest.slice(0, -1) : rest;
  let listen: ListenAddress;
  try {
    if (/[/?#@]/.test(hostPort)) throw new Error('path, query or user info');
    listen = parseAddress(hostPort, what);
  } catch {
    return fail(what, `invalid Docker endpoint ${show(text)}: expected ${scheme}://host:port`);
  }
  if (listen.host === '' || listen.port === 0) {
    return fail(what, `invalid Docker endpoint ${show(text)}: expected ${scheme}://host:port with a host and a port`);
  }
  return `tcp://${hostPort}`;
}
