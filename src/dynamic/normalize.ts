// Turns parsed YAML/JSON (or any plain data) into a DynamicConfig. Keys match
// case-insensitively, as in Traefik ("loadBalancer" = "loadbalancer"). An
// element with a bad shape becomes a ConfigError naming it and is left out;
// everything else is kept.
import { parseDuration } from '../config/values.js';
import {
  emptyDynamicConfig,
  H2C_REFUSED,
  type ConfigError,
  type DynamicConfig,
  type HealthCheckConfig,
  type PassiveHealthCheckConfig,
  type LoadBalancerConfig,
  type MiddlewareConfig,
  type CertificateConfig,
  type RouterConfig,
  type RouterTlsConfig,
  type RuleSyntax,
  type TlsConfig,
  type TlsDomainConfig,
  type ServerConfig,
  type ServersTransportConfig,
  type ServiceConfig,
  type StickyCookieConfig,
  type WeightedServiceRef,
} from './model.js';

export interface NormalizeOptions {
  /** Provider name for ConfigError.provider (default "file"). */
  provider?: string;
  /** Where the data came from (a file name), appended to messages. */
  source?: string;
}

export interface NormalizeResult {
  config: DynamicConfig;
  /** One per element left out, plus section-level problems (no `element`). */
  errors: ConfigError[];
  /** Things ignored without disabling anything (tcp/udp/tls sections, unknown top-level keys). */
  warnings: string[];
}

type Kind = 'router' | 'service' | 'middleware' | 'serversTransport';
type Obj = Record<string, unknown>;

/** A problem with one element; thrown while normalizing it, caught per element. */
class Problem extends Error {}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Sets an own property, so a name such as "__proto__" is just a name. */
function defineOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Reads `obj`'s keys against the canonical names in `known`, ignoring case.
 * A key that Traefik knows but portero does not implement (`unsupported`) or
 * that nobody knows is a Problem naming it, prefixed by `at`.
 */
function readKeys(obj: Obj, known: readonly string[], unsupported: readonly string[], at: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const given = new Map<string, string>();
  for (const [key, value] of Object.entries(obj)) {
    const lower = key.toLowerCase();
    const canonical = known.find((k) => k.toLowerCase() === lower);
    if (canonical === undefined) {
      const traefikKey = unsupported.find((k) => k.toLowerCase() === lower);
      throw new Problem(
        traefikKey !== undefined
          ? `${at}"${key}" is not supported by portero`
          : `${at}unknown key "${key}"${known.length ? ` (expected ${known.join(', ')})` : ''}`,
      );
    }
    const previous = given.get(canonical);
    if (previous !== undefined) throw new Problem(`${at}"${previous}" and "${key}" are the same key`);
    given.set(canonical, key);
    out.set(canonical, value);
  }
  return out;
}

function str(v: unknown, at: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw new Problem(`${at} must be a non-empty string, got ${describe(v)}`);
  return v.trim();
}

function bool(v: unknown, at: string): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
  throw new Problem(`${at} must be true or false, got ${describe(v)}`);
}

function int(v: unknown, at: string, min: number | undefined): number {
  let n = NaN;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) n = Number(v);
  if (!Number.isSafeInteger(n) || (min !== undefined && n < min)) {
    const what = min === 0 ? 'a non-negative integer' : 'an integer';
    throw new Problem(`${at} must be ${what}, got ${describe(v)}`);
  }
  return n;
}

function names(v: unknown, at: string): string[] {
  if (!Array.isArray(v)) throw new Problem(`${at} must be a list of names, got ${describe(v)}`);
  return v.map((item, i) => str(item, `${at}[${i}]`));
}

function list(v: unknown, at: string): unknown[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new Problem(`${at} must be a list, got ${describe(v)}`);
  return v;
}

function mapping(v: unknown, at: string): Obj {
  if (!isObject(v)) throw new Problem(`${at} must be a mapping, got ${describe(v)}`);
  return v;
}

const RULE_SYNTAXES: readonly RuleSyntax[] = ['v3', 'v2', 'v1'];

export function normalizeRouter(raw: unknown): RouterConfig {
  const keys = readKeys(
    mapping(raw, 'definition'),
    ['rule', 'ruleSyntax', 'service', 'priority', 'entryPoints', 'middlewares', 'tls'],
    ['observability'],
    '',
  );
  if (!keys.has('rule')) throw new Problem('missing "rule"');
  const router: RouterConfig = { rule: str(keys.get('rule'), 'rule') };
  if (keys.has('ruleSyntax')) {
    const syntax = str(keys.get('ruleSyntax'), 'ruleSyntax').toLowerCase();
    if (!(RULE_SYNTAXES as readonly string[]).includes(syntax)) {
      throw new Problem(`ruleSyntax must be one of ${RULE_SYNTAXES.join(', ')}, got ${JSON.stringify(syntax)}`);
    }
    router.ruleSyntax = syntax as RuleSyntax;
  }
  if (keys.has('service')) router.service = str(keys.get('service'), 'service');
  if (keys.has('priority')) router.priority = int(keys.get('priority'), 'priority', undefined);
  if (keys.has('entryPoints')) router.entryPoints = names(keys.get('entryPoints'), 'entryPoints');
  if (keys.has('middlewares')) router.middlewares = names(keys.get('middlewares'), 'middlewares');
  if (keys.has('tls')) router.tls = normalizeRouterTls(keys.get('tls'));
  return router;
}

const DOMAIN = /^(\*\.)?([a-z0-9_]([a-z0-9_-]*[a-z0-9_])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

function domain(v: unknown, at: string): string {
  const name = str(v, at).toLowerCase();
  if (!DOMAIN.test(name)) throw new Problem(`${at}: ${JSON.stringify(name)} is not a domain name`);
  return name;
}

function normalizeDomain(raw: unknown, at: string): TlsDomainConfig {
  const keys = readKeys(mapping(raw, at), ['main', 'sans'], [], `${at}: `);
  if (!keys.has('main')) throw new Problem(`${at}: missing "main"`);
  const d: TlsDomainConfig = { main: domain(keys.get('main'), `${at}.main`) };
  if (keys.has('sans')) {
    const sans = keys.get('sans');
    const items = typeof sans === 'string' ? sans.split(',').map((x) => x.trim()).filter((x) => x !== '') : list(sans, `${at}.sans`);
    d.sans = items.map((x, i) => domain(x, `${at}.sans[${i}]`));
  }
  return d;
}

/** A router's `tls`: `{}` (or `true` from a label), certResolver, domains (a list, or labels' domains[n]). */
export function normalizeRouterTls(raw: unknown): RouterTlsConfig {
  if (raw === true || raw === null) return {};
  const tls: RouterTlsConfig = {};
  const indexed = new Map<number, unknown>();
  const plain: Obj = {};
  for (const [k, v] of Object.entries(mapping(raw, 'tls'))) {
    const m = /^domains\[(\d+)\]$/i.exec(k);
    if (m !== null) indexed.set(Number(m[1]), v);
    else plain[k] = v;
  }
  const keys = readKeys(plain, ['certResolver', 'domains', 'options'], [], 'tls: ');
  if (keys.has('certResolver')) tls.certResolver = str(keys.get('certResolver'), 'tls.certResolver');
  if (keys.has('options')) {
    const options = str(keys.get('options'), 'tls.options');
    if (!/^default(@.*)?$/i.test(options)) throw new Problem(`tls.options ${JSON.stringify(options)}: TLS options are not supported by portero (only "default")`);
  }
  const domains: TlsDomainConfig[] = [];
  if (keys.has('domains')) domains.push(...list(keys.get('domains'), 'tls.domains').map((d, i) => normalizeDomain(d, `tls.domains[${i}]`)));
  for (const [i, d] of [...indexed].sort((a, b) => a[0] - b[0])) domains.push(normalizeDomain(d, `tls.domains[${i}]`));
  if (domains.length > 0) tls.domains = domains;
  return tls;
}

function certificate(raw: unknown, at: string): CertificateConfig {
  // `stores` names the one store portero has ("default"): accepted and ignored.
  const keys = readKeys(mapping(raw, at), ['certFile', 'keyFile', 'stores'], [], `${at}: `);
  if (!keys.has('certFile') || !keys.has('keyFile')) throw new Problem(`${at}: needs certFile and keyFile`);
  return { certFile: str(keys.get('certFile'), `${at}.certFile`), keyFile: str(keys.get('keyFile'), `${at}.keyFile`) };
}

/** The `tls` section: certificates and the default store's defaultCertificate. TLS options are refused with a warning. */
function normalizeTls(raw: unknown, provider: string, suffix: string, result: NormalizeResult): TlsConfig {
  const out: TlsConfig = {};
  if (!isObject(raw)) {
    result.errors.push({ provider, message: `"tls" must be a mapping, got ${describe(raw)}${suffix}` });
    return out;
  }
  for (const [key, value] of Object.entries(raw)) {
    const lower = key.toLowerCase();
    if (lower === 'certificates') {
      const items = Array.isArray(value) ? value : [];
      if (!Array.isArray(value)) result.errors.push({ provider, message: `tls.certificates must be a list, got ${describe(value)}${suffix}` });
      items.forEach((item, i) => {
        try {
          (out.certificates ??= []).push(certificate(item, `tls.certificates[${i}]`));
        } catch (err) {
          if (!(err instanceof Problem)) throw err;
          result.errors.push({ provider, element: { kind: 'certificate', name: `tls.certificates[${i}]` }, message: `${err.message}${suffix}` });
        }
      });
    } else if (lower === 'stores') {
      for (const [store, def] of Object.entries(isObject(value) ? value : {})) {
        if (store.toLowerCase() !== 'default') {
          result.warnings.push(`tls.stores.${store} ignored: portero has one certificate store, "default"${suffix}`);
          continue;
        }
        for (const [k, v] of Object.entries(isObject(def) ? def : {})) {
          if (k.toLowerCase() === 'defaultcertificate') {
            try {
              out.defaultCertificate = certificate(v, 'tls.stores.default.defaultCertificate');
            } catch (err) {
              if (!(err instanceof Problem)) throw err;
              result.errors.push({ provider, element: { kind: 'certificate', name: 'defaultCertificate' }, message: `${err.message}${suffix}` });
            }
          } else result.warnings.push(`tls.stores.default.${k} is not supported by portero; ignored${suffix}`);
        }
      }
    } else if (lower === 'options') {
      result.warnings.push(`tls.options ignored: portero has no TLS options (its TLS library's defaults apply)${suffix}`);
    } else result.warnings.push(`unknown key tls.${key} ignored${suffix}`);
  }
  return out;
}

function serverUrl(v: unknown, at: string): string {
  const text = str(v, at);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Problem(`${at} is not a valid URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol === 'h2c:') throw new Problem(`${at}: ${H2C_REFUSED}`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Problem(`${at} must be an http:// or https:// URL, got ${JSON.stringify(text)}`);
  }
  if (url.hostname === '') throw new Problem(`${at} has no host: ${JSON.stringify(text)}`);
  return text;
}

function normalizeLoadBalancer(raw: unknown): LoadBalancerConfig {
  const keys = readKeys(
    mapping(raw, 'loadBalancer'),
    ['servers', 'passHostHeader', 'healthCheck', 'passiveHealthCheck', 'serversTransport', 'responseForwarding', 'sticky'],
    ['strategy'],
    'loadBalancer: ',
  );
  const servers = list(keys.get('servers'), 'loadBalancer.servers').map((item, i): ServerConfig => {
    const at = `loadBalancer.servers[${i}]`;
    const server = readKeys(mapping(item, at), ['url', 'weight', 'preservePath'], [], `${at}: `);
    if (!server.has('url')) throw new Problem(`${at}: missing "url"`);
    const out: ServerConfig = { url: serverUrl(server.get('url'), `${at}.url`) };
    if (server.has('weight')) out.weight = int(server.get('weight'), `${at}.weight`, 0);
    if (server.has('preservePath')) out.preservePath = bool(server.get('preservePath'), `${at}.preservePath`);
    return out;
  });
  const lb: LoadBalancerConfig = { servers };
  if (keys.has('passHostHeader')) lb.passHostHeader = bool(keys.get('passHostHeader'), 'loadBalancer.passHostHeader');
  if (keys.has('healthCheck')) lb.healthCheck = normalizeHealthCheck(keys.get('healthCheck'));
  if (keys.has('passiveHealthCheck')) lb.passiveHealthCheck = normalizePassiveHealthCheck(keys.get('passiveHealthCheck'));
  if (keys.has('serversTransport')) lb.serversTransport = str(keys.get('serversTransport'), 'loadBalancer.serversTransport');
  if (keys.has('responseForwarding')) lb.responseForwarding = responseForwarding(keys.get('responseForwarding'));
  if (keys.has('sticky')) lb.sticky = sticky(keys.get('sticky'));
  return lb;
}

/**
 * Traefik's responseForwarding.flushInterval is accepted and checked, and has
 * nothing left to do: portero writes each piece of a response body to the
 * client as it arrives (Traefik's default waits up to 100 ms; -1 means what
 * portero always does).
 */
/** Whether a label's or file's value switches a section on ("sticky.cookie=true", "cookie: {}"). */
function switchedOn(v: unknown): boolean {
  return v === true || v === null || (typeof v === 'string' && v.trim().toLowerCase() === 'true') || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
}

/** loadBalancer.sticky: a cookie (the only kind Traefik has); `sticky=true` and `sticky.cookie=true` mean one with the defaults. */
function sticky(raw: unknown, at = 'loadBalancer.sticky'): { cookie: StickyCookieConfig } {
  if (switchedOn(raw)) return { cookie: {} };
  const keys = readKeys(mapping(raw, at), ['cookie'], [], `${at}: `);
  const c = keys.get('cookie');
  if (c === undefined || switchedOn(c)) return { cookie: {} };
  const ck = readKeys(mapping(c, `${at}.cookie`), ['name', 'secure', 'httpOnly', 'sameSite', 'maxAge', 'path', 'domain'], [], `${at}.cookie: `);
  const cookie: StickyCookieConfig = {};
  if (ck.has('name')) cookie.name = str(ck.get('name'), `${at}.cookie.name`);
  if (ck.has('secure')) cookie.secure = bool(ck.get('secure'), `${at}.cookie.secure`);
  if (ck.has('httpOnly')) cookie.httpOnly = bool(ck.get('httpOnly'), `${at}.cookie.httpOnly`);
  if (ck.has('sameSite')) {
    const s = str(ck.get('sameSite'), `${at}.cookie.sameSite`);
    if (!/^(none|lax|strict)$/i.test(s)) throw new Problem(`${at}.cookie.sameSite must be none, lax or strict, got ${JSON.stringify(s)}`);
    cookie.sameSite = s;
  }
  if (ck.has('maxAge')) cookie.maxAge = int(ck.get('maxAge'), `${at}.cookie.maxAge`, undefined);
  if (ck.has('path')) {
    const p = str(ck.get('path'), `${at}.cookie.path`);
    if (/[;\s\0]/.test(p)) throw new Problem(`${at}.cookie.path must not contain ";" or spaces`);
    cookie.path = p;
  }
  if (ck.has('domain')) {
    const d = str(ck.get('domain'), `${at}.cookie.domain`);
    if (!/^\.?[A-Za-z0-9.-]+$/.test(d)) throw new Problem(`${at}.cookie.domain ${JSON.stringify(d)} is not a domain`);
    cookie.domain = d;
  }
  return { cookie };
}

function responseForwarding(raw: unknown): { flushInterval?: string } {
  const at = 'loadBalancer.responseForwarding';
  const keys = readKeys(mapping(raw, at), ['flushInterval'], [], `${at}: `);
  const v = keys.get('flushInterval');
  if (v === undefined) return {};
  const text = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
  if (!/^-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$|^-?\d+$/.test(text)) throw new Problem(`${at}.flushInterval must be a duration such as 100ms or -1, got ${describe(v)}`);
  return { flushInterval: text };
}

export function normalizeServersTransport(raw: unknown): ServersTransportConfig {
  const keys = readKeys(
    mapping(raw, 'definition'),
    ['serverName', 'insecureSkipVerify', 'rootCAs', 'pipelining'],
    ['certificates', 'maxIdleConnsPerHost', 'forwardingTimeouts', 'disableHTTP2', 'peerCertURI', 'peerCertSANs', 'spiffe', 'cipherSuites', 'minVersion', 'maxVersion'],
    '',
  );
  const t: ServersTransportConfig = {};
  if (keys.has('serverName')) t.serverName = str(keys.get('serverName'), 'serverName');
  if (keys.has('insecureSkipVerify')) t.insecureSkipVerify = bool(keys.get('insecureSkipVerify'), 'insecureSkipVerify');
  if (keys.has('rootCAs')) t.rootCAs = list(keys.get('rootCAs'), 'rootCAs').map((v, i) => str(v, `rootCAs[${i}]`));
  if (keys.has('pipelining')) t.pipelining = pipeliningDepth(keys.get('pipelining'), 'pipelining');
  return t;
}

/** A pipelining depth: a whole number of requests per connection, 0 or 1 meaning off. */
export function pipeliningDepth(v: unknown, at: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d{1,4}\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 1024) throw new Problem(`${at} must be a whole number of requests per connection from 0 (off) to 1024, got ${describe(v)}`);
  return n;
}

/** A Go duration ("10s", "1m30s") or a number of seconds, kept as written. */
function duration(v: unknown, at: string, minMs = 1): string {
  let ms: number;
  try {
    ms = parseDuration(v, at);
  } catch {
    throw new Problem(`${at} must be a duration such as 10s or 500ms, got ${describe(v)}`);
  }
  if (ms < minMs) throw new Problem(`${at} must be at least ${minMs} ms, got ${describe(v)}`);
  return typeof v === 'number' ? `${v}s` : String(v).trim();
}

const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function normalizeHealthCheck(raw: unknown): HealthCheckConfig {
  const at = 'loadBalancer.healthCheck';
  const keys = readKeys(
    mapping(raw, at),
    ['path', 'scheme', 'mode', 'hostname', 'port', 'interval', 'unhealthyInterval', 'timeout', 'headers', 'followRedirects', 'method', 'status'],
    [],
    `${at}: `,
  );
  const hc: HealthCheckConfig = {};
  if (keys.has('path')) {
    const path = str(keys.get('path'), `${at}.path`);
    if (!path.startsWith('/')) throw new Problem(`${at}.path must start with /, got ${JSON.stringify(path)}`);
    hc.path = path;
  }
  if (keys.has('scheme')) {
    const scheme = str(keys.get('scheme'), `${at}.scheme`).toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') throw new Problem(`${at}.scheme must be http or https, got ${JSON.stringify(scheme)}`);
    hc.scheme = scheme;
  }
  if (keys.has('mode')) {
    const mode = str(keys.get('mode'), `${at}.mode`).toLowerCase();
    if (mode !== 'http') throw new Problem(`${at}.mode ${JSON.stringify(mode)} is not supported by portero (only http)`);
    hc.mode = 'http';
  }
  if (keys.has('hostname')) hc.hostname = str(keys.get('hostname'), `${at}.hostname`);
  if (keys.has('port')) {
    const port = int(keys.get('port'), `${at}.port`, 1);
    if (port > 65535) throw new Problem(`${at}.port must be at most 65535, got ${port}`);
    hc.port = port;
  }
  for (const k of ['interval', 'unhealthyInterval', 'timeout'] as const) if (keys.has(k)) hc[k] = duration(keys.get(k), `${at}.${k}`);
  if (keys.has('headers')) {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(mapping(keys.get('headers'), `${at}.headers`))) {
      if (!HTTP_TOKEN.test(name)) throw new Problem(`${at}.headers: ${JSON.stringify(name)} is not a valid header name`);
      const text = typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
      if (typeof text !== 'string' || /[\0\r\n]/.test(text)) throw new Problem(`${at}.headers.${name} must be a single-line string, got ${describe(value)}`);
      defineOwn(headers, name, text);
    }
    hc.headers = headers;
  }
  if (keys.has('followRedirects')) hc.followRedirects = bool(keys.get('followRedirects'), `${at}.followRedirects`);
  if (keys.has('method')) {
    const method = str(keys.get('method'), `${at}.method`).toUpperCase();
    if (!HTTP_TOKEN.test(method)) throw new Problem(`${at}.method ${JSON.stringify(method)} is not an HTTP method`);
    hc.method = method;
  }
  if (keys.has('status')) {
    const status = int(keys.get('status'), `${at}.status`, 100);
    if (status > 599) throw new Problem(`${at}.status must be an HTTP status (100-599), got ${status}`);
    hc.status = status;
  }
  return hc;
}

function normalizePassiveHealthCheck(raw: unknown): PassiveHealthCheckConfig {
  const at = 'loadBalancer.passiveHealthCheck';
  const keys = readKeys(mapping(raw, at), ['failureWindow', 'maxFailedAttempts'], [], `${at}: `);
  const p: PassiveHealthCheckConfig = {};
  if (keys.has('failureWindow')) p.failureWindow = duration(keys.get('failureWindow'), `${at}.failureWindow`, 100);
  if (keys.has('maxFailedAttempts')) p.maxFailedAttempts = int(keys.get('maxFailedAttempts'), `${at}.maxFailedAttempts`, 1);
  return p;
}

function normalizeWeighted(raw: unknown): NonNullable<ServiceConfig['weighted']> {
  const keys = readKeys(mapping(raw, 'weighted'), ['services', 'sticky'], ['healthCheck'], 'weighted: ');
  const services = list(keys.get('services'), 'weighted.services').map((item, i): WeightedServiceRef => {
    const at = `weighted.services[${i}]`;
    const ref = readKeys(mapping(item, at), ['name', 'weight'], [], `${at}: `);
    if (!ref.has('name')) throw new Problem(`${at}: missing "name"`);
    const out: WeightedServiceRef = { name: str(ref.get('name'), `${at}.name`) };
    if (ref.has('weight')) out.weight = int(ref.get('weight'), `${at}.weight`, 0);
    return out;
  });
  if (services.length === 0) throw new Problem('weighted.services must list at least one service');
  if (keys.has('sticky')) return { services, sticky: sticky(keys.get('sticky'), 'weighted.sticky') };
  return { services };
}

export function normalizeService(raw: unknown): ServiceConfig {
  const keys = readKeys(mapping(raw, 'definition'), ['loadBalancer', 'weighted'], ['mirroring', 'failover'], '');
  if (keys.size !== 1) {
    throw new Problem(
      keys.size === 0 ? 'needs a "loadBalancer" or a "weighted" section' : 'must have only one of "loadBalancer" and "weighted"',
    );
  }
  if (keys.has('loadBalancer')) return { loadBalancer: normalizeLoadBalancer(keys.get('loadBalancer')) };
  return { weighted: normalizeWeighted(keys.get('weighted')) };
}

export function normalizeMiddleware(raw: unknown): MiddlewareConfig {
  // Middlewares are kept as given; their own code validates their options.
  const m = mapping(raw, 'definition');
  if (Object.keys(m).length === 0) throw new Problem('has no middleware type (e.g. stripPrefix, headers)');
  return structuredClone(m);
}

const SECTIONS: readonly { key: 'routers' | 'services' | 'middlewares' | 'serversTransports'; kind: Kind; normalize: (raw: unknown) => unknown }[] = [
  { key: 'routers', kind: 'router', normalize: normalizeRouter },
  { key: 'services', kind: 'service', normalize: normalizeService },
  { key: 'middlewares', kind: 'middleware', normalize: normalizeMiddleware },
  { key: 'serversTransports', kind: 'serversTransport', normalize: normalizeServersTransport },
];

/** Sections of Traefik's dynamic configuration that portero does not handle. */
const IGNORED_TOP = ['tcp', 'udp'];
const IGNORED_HTTP = ['serversTransport'];

export function normalizeDynamicConfig(raw: unknown, options: NormalizeOptions = {}): NormalizeResult {
  const provider = options.provider ?? 'file';
  const suffix = options.source ? ` (in ${options.source})` : '';
  const result: NormalizeResult = { config: emptyDynamicConfig(), errors: [], warnings: [] };
  const sectionError = (message: string): void => {
    result.errors.push({ provider, message: message + suffix });
  };
  if (raw === null || raw === undefined) return result;
  if (!isObject(raw)) {
    sectionError(`expected a mapping at the top level, got ${describe(raw)}`);
    return result;
  }

  let http: unknown;
  for (const [key, value] of Object.entries(raw)) {
    const lower = key.toLowerCase();
    if (lower === 'http') http = value;
    else if (lower === 'tls') {
      if (value !== null && value !== undefined) result.config.tls = normalizeTls(value, provider, suffix, result);
    }
    else if (IGNORED_TOP.includes(lower)) result.warnings.push(`"${key}" configuration is not supported by portero; ignored${suffix}`);
    else result.warnings.push(`unknown top-level key "${key}" ignored${suffix}`);
  }
  if (http === null || http === undefined) return result;
  if (!isObject(http)) {
    sectionError(`"http" must be a mapping, got ${describe(http)}`);
    return result;
  }

  const sections = new Map<string, unknown>();
  for (const [key, value] of Object.entries(http)) {
    const lower = key.toLowerCase();
    const section = SECTIONS.find((s) => s.key.toLowerCase() === lower);
    if (section) sections.set(section.key, value);
    else if (IGNORED_HTTP.some((k) => k.toLowerCase() === lower)) {
      result.warnings.push(`http.${key} is not supported by portero; ignored${suffix}`);
    } else result.warnings.push(`unknown key http.${key} ignored${suffix}`);
  }

  for (const { key, kind, normalize } of SECTIONS) {
    const elements = sections.get(key);
    if (elements === null || elements === undefined) continue;
    if (!isObject(elements)) {
      sectionError(`http.${key} must be a mapping of names to definitions, got ${describe(elements)}`);
      continue;
    }
    const target = (result.config.http[key] ??= {}) as Record<string, unknown>;
    for (const [name, definition] of Object.entries(elements)) {
      try {
        if (name.trim() === '') throw new Problem('the name is empty');
        if (name.includes('@')) throw new Problem('names must not contain "@" (it separates the provider)');
        defineOwn(target, name, normalize(definition));
      } catch (err) {
        if (!(err instanceof Problem)) throw err;
        result.errors.push({
          provider,
          element: { kind, name },
          message: `${kind} "${name}": ${err.message}${suffix}`,
          ...(isObject(definition) ? { definition: structuredClone(definition) } : {}),
        });
      }
    }
  }
  return result;
}
