// The table of static settings portero understands. One row per Traefik flag;
// the same rows serve the command line, TRAEFIK_* environment variables and
// the YAML config file (whose keys are the flag's dotted path), and generate
// --help. To add a setting: add a field to Draft, a row here, and its default
// in finalize() (parse.ts). The Swarm provider's rows and defaults live in
// swarm.ts.
import { readFileSync } from 'node:fs';
import type { FlagSpec as FlagRow } from './flag-spec.js';
import { OBSERVABILITY_FLAG_SPECS, type ObservabilityDraft } from './observability.js';
import { WEBSOCKET_FLAG_SPECS } from './websocket.js';
import type { WebSocketConfig } from './websocket.js';
import type { TransportConfig } from './static.js';
import { SWARM_FLAG_SPECS, type SwarmDrafts } from './swarm.js';
import { emptyTlsDrafts, TLS_FLAG_SPECS, type TlsDrafts } from './tls.js';
import {
  parseAddress,
  parseBool,
  parseCidrList,
  parseDuration,
  parseInteger,
  parseLogLevel,
  parseMiddlewareNames,
  parsePemList,
  parseText,
  type ListenAddress,
  type StaticLogLevel,
} from './values.js';

export interface EntryPointDraft {
  /** The name as first written by the user. */
  name: string;
  listen?: ListenAddress;
  trustedIPs?: string[];
  forwardedHeadersInsecure?: boolean;
  graceTimeoutMs?: number;
  readTimeoutMs?: number;
  middlewares?: string[];
}

/** What the sources have set so far; unset fields get defaults in finalize(). */
export interface Draft {
  /** Keyed by lower-cased name: entry point names match case-insensitively. */
  entryPoints: Map<string, EntryPointDraft>;
  fileProvider?: { filename?: string; directory?: string; watch?: boolean };
  /** The Swarm provider, one draft per Traefik spelling (swarm.ts). */
  swarm: SwarmDrafts;
  api: { enabled?: boolean; insecure?: boolean; dashboard?: boolean };
  ping?: boolean;
  logLevel?: StaticLogLevel;
  workers?: number;
  transport: Partial<TransportConfig>;
  websocket: Partial<WebSocketConfig>;
  configFile?: string;
  /** Log format, metrics and access log (observability.ts). */
  observability: ObservabilityDraft;
  /** Entry point TLS and redirections, ACME resolvers, v1 entry points (tls.ts). */
  tls: TlsDrafts;
  /** Accepted-but-ignored settings in effect: flag -> warning. */
  ignored: Map<string, string>;
}

export function emptyDraft(): Draft {
  return { entryPoints: new Map(), swarm: {}, api: {}, transport: {}, websocket: {}, observability: {}, tls: emptyTlsDrafts(), ignored: new Map() };
}

/** A row of the table (flag-spec.ts). */
export type FlagSpec = FlagRow<Draft>;

export const GROUPS = {
  general: 'General:',
  entryPoints: 'Entry points:',
  providers: 'Providers:',
  api: 'API and health:',
  transport: 'Connections to servers:',
  log: 'Logs:',
  ignored: 'Accepted for compatibility and ignored:',
} as const;

function entryPoint(draft: Draft, name: string): EntryPointDraft {
  const key = name.toLowerCase();
  let ep = draft.entryPoints.get(key);
  if (!ep) {
    ep = { name };
    draft.entryPoints.set(key, ep);
  }
  return ep;
}

function fileProvider(draft: Draft): NonNullable<Draft['fileProvider']> {
  return (draft.fileProvider ??= {});
}

export const FLAG_SPECS: readonly FlagSpec[] = [
  {
    flag: 'configFile',
    type: 'string',
    group: GROUPS.general,
    describe: 'Static configuration file (YAML, Traefik layout); flags override it',
    notInFile: true,
    apply: (d, raw, _n, what) => {
      d.configFile = parseText(raw, what);
    },
  },
  {
    flag: 'workers',
    type: 'string',
    group: GROUPS.general,
    describe: 'Number of proxy worker threads',
    defaultText: 'number of CPUs',
    apply: (d, raw, _n, what) => {
      d.workers = parseInteger(raw, what, 1);
    },
  },

  // Entry points
  {
    flag: 'entrypoints.<name>',
    type: 'boolean',
    group: GROUPS.entryPoints,
    describe: 'Declare entry point <name> (its address is still required)',
    hidden: true,
    apply: (d, _raw, [name]) => {
      entryPoint(d, name!);
    },
  },
  {
    flag: 'entrypoints.<name>.address',
    type: 'string',
    group: GROUPS.entryPoints,
    describe: 'Address entry point <name> listens on: [host]:port, e.g. ":80", "127.0.0.1:8081", "[::1]:80"',
    defaultText: 'web=":80", traefik=":8080"',
    apply: (d, raw, [name], what) => {
      entryPoint(d, name!).listen = parseAddress(raw, what);
    },
  },
  {
    flag: 'entrypoints.<name>.forwardedHeaders.trustedIPs',
    type: 'string',
    group: GROUPS.entryPoints,
    describe: 'Comma-separated IPs/CIDRs whose X-Forwarded-* headers are kept',
    defaultText: 'none',
    apply: (d, raw, [name], what) => {
      entryPoint(d, name!).trustedIPs = parseCidrList(raw, what);
    },
  },
  {
    flag: 'entrypoints.<name>.forwardedHeaders.insecure',
    type: 'boolean',
    group: GROUPS.entryPoints,
    describe: 'Keep X-Forwarded-* headers from any client',
    defaultText: 'false',
    apply: (d, raw, [name], what) => {
      entryPoint(d, name!).forwardedHeadersInsecure = parseBool(raw, what);
    },
  },
  {
    flag: 'entrypoints.<name>.http.middlewares',
    type: 'string',
    group: GROUPS.entryPoints,
    describe: "Comma-separated middlewares every router on entry point <name> runs before its own (auth@file,strip@docker; without @provider: the router's provider)",
    apply: (d, raw, [name], what) => {
      entryPoint(d, name!).middlewares = parseMiddlewareNames(raw, what);
    },
  },
  {
    flag: 'entrypoints.<name>.transport.lifeCycle.graceTimeOut',
    type: 'string',
    group: GROUPS.entryPoints,
    describe: 'How long in-flight requests may finish after shutdown starts',
    defaultText: '10s',
    apply: (d, raw, [name], what) => {
      entryPoint(d, name!).graceTimeoutMs = parseDuration(raw, what);
    },
  },
  {
    flag: 'entrypoints.<name>.transport.respondingTimeouts.readTimeout',
    type: 'string',
    group: GROUPS.entryPoints,
    describe: 'How long a request body may take to arrive (0: no limit; the head has uWebSockets.js\'s fixed 10 s)',
    defaultText: '60s',
    apply: (d, raw, [name], what) => {
      entryPoint(d, name!).readTimeoutMs = parseDuration(raw, what);
    },
  },

  // Providers
  {
    flag: 'providers.file',
    type: 'boolean',
    group: GROUPS.providers,
    describe: 'Enable the file provider (needs filename or directory)',
    hidden: true,
    apply: (d, raw, _n, what) => {
      if (parseBool(raw, what)) fileProvider(d);
      else delete d.fileProvider;
    },
  },
  {
    flag: 'providers.file.filename',
    type: 'string',
    group: GROUPS.providers,
    describe: 'Dynamic configuration file (.yml, .yaml or .json)',
    apply: (d, raw, _n, what) => {
      fileProvider(d).filename = parseText(raw, what);
    },
  },
  {
    flag: 'providers.file.directory',
    type: 'string',
    group: GROUPS.providers,
    describe: 'Directory of dynamic configuration files, read recursively and merged',
    apply: (d, raw, _n, what) => {
      fileProvider(d).directory = parseText(raw, what);
    },
  },
  {
    flag: 'providers.file.watch',
    type: 'boolean',
    group: GROUPS.providers,
    describe: 'Reload the file provider configuration when it changes',
    defaultText: 'true',
    apply: (d, raw, _n, what) => {
      fileProvider(d).watch = parseBool(raw, what);
    },
  },

  ...SWARM_FLAG_SPECS,

  // API and ping
  {
    flag: 'api',
    type: 'boolean',
    group: GROUPS.api,
    describe: 'Enable the API and dashboard as the api@internal service (for a router); with Traefik v1 flags (--docker), on the traefik entry point as v1 did',
    defaultText: 'false',
    apply: (d, raw, _n, what) => {
      d.api.enabled = parseBool(raw, what);
    },
  },
  {
    flag: 'api.insecure',
    type: 'boolean',
    group: GROUPS.api,
    describe: 'Serve the API and dashboard on the traefik entry point',
    defaultText: 'false',
    apply: (d, raw, _n, what) => {
      d.api.insecure = parseBool(raw, what);
    },
  },
  {
    flag: 'api.dashboard',
    type: 'boolean',
    group: GROUPS.api,
    describe: 'Serve the dashboard along with the API',
    defaultText: 'true',
    apply: (d, raw, _n, what) => {
      d.api.dashboard = parseBool(raw, what);
    },
  },
  {
    flag: 'ping',
    type: 'boolean',
    group: GROUPS.api,
    describe: 'Answer /ping on the traefik entry point (--ping=false disables)',
    defaultText: 'true',
    apply: (d, raw, _n, what) => {
      d.ping = parseBool(raw, what);
    },
  },

  // Logs
  {
    flag: 'log.level',
    type: 'string',
    group: GROUPS.log,
    describe: 'Log level: TRACE, DEBUG, INFO, WARN, ERROR, FATAL or PANIC',
    defaultText: 'ERROR',
    apply: (d, raw, _n, what) => {
      d.logLevel = parseLogLevel(raw, what);
    },
  },

  ...OBSERVABILITY_FLAG_SPECS,
  ...WEBSOCKET_FLAG_SPECS,
  ...TLS_FLAG_SPECS,

  // Connections to servers
  {
    flag: 'serversTransport.maxIdleConnsPerHost',
    type: 'string',
    group: GROUPS.transport,
    describe: 'Idle keep-alive connections kept per server, per worker',
    defaultText: '200',
    apply: (d, raw, _n, what) => {
      d.transport.maxIdleConnsPerHost = parseInteger(raw, what, 0);
    },
  },
  {
    flag: 'serversTransport.maxConnsPerHost',
    type: 'string',
    group: GROUPS.transport,
    describe: 'Open connections per server, per worker (0 = unlimited)',
    defaultText: '0',
    apply: (d, raw, _n, what) => {
      d.transport.maxConnsPerHost = parseInteger(raw, what, 0);
    },
  },
  {
    flag: 'serversTransport.forwardingTimeouts.dialTimeout',
    type: 'string',
    group: GROUPS.transport,
    describe: 'Time allowed to connect to a server',
    defaultText: '30s',
    apply: (d, raw, _n, what) => {
      d.transport.dialTimeoutMs = parseDuration(raw, what);
    },
  },
  {
    flag: 'serversTransport.forwardingTimeouts.responseHeaderTimeout',
    type: 'string',
    group: GROUPS.transport,
    describe: 'Time allowed for a server to send response headers (0 = no limit)',
    defaultText: '0',
    apply: (d, raw, _n, what) => {
      d.transport.responseHeaderTimeoutMs = parseDuration(raw, what);
    },
  },
  {
    flag: 'serversTransport.forwardingTimeouts.idleConnTimeout',
    type: 'string',
    group: GROUPS.transport,
    describe: 'How long an idle keep-alive connection to a server is kept',
    defaultText: '90s',
    apply: (d, raw, _n, what) => {
      d.transport.idleConnTimeoutMs = parseDuration(raw, what);
    },
  },
  {
    flag: 'serversTransport.insecureSkipVerify',
    type: 'boolean',
    group: GROUPS.transport,
    describe: "Don't verify the certificates of https:// servers",
    defaultText: 'false',
    apply: (d, raw, _n, what) => {
      d.transport.insecureSkipVerify = parseBool(raw, what);
    },
  },
  {
    flag: 'serversTransport.rootCAs',
    type: 'string',
    group: GROUPS.transport,
    describe: "CA certificates (PEM files, comma-separated, or inline PEM) that https:// servers' certificates must chain to, instead of the system's",
    apply: (d, raw, _n, what) => {
      d.transport.rootCAs = parsePemList(raw, what, (path) => readFileSync(path, 'utf8'));
    },
  },
  {
    flag: 'serversTransport.pipelining',
    type: 'string',
    group: GROUPS.transport,
    describe:
      "portero's own: bodiless GET and HEAD requests one upstream connection may carry at once (HTTP/1.1 pipelining); 0 or 1 = off. Only for servers known to answer pipelined requests in order",
    defaultText: '0',
    apply: (d, raw, _n, what) => {
      d.transport.pipelining = parseInteger(raw, what, 0);
    },
  },
  {
    flag: 'serversTransport.forwardingTimeouts.readTimeout',
    type: 'string',
    group: GROUPS.transport,
    describe: 'Longest a server may go silent in the middle of a response body (0 = no limit)',
    defaultText: '60s',
    apply: (d, raw, _n, what) => {
      d.transport.readTimeoutMs = parseDuration(raw, what);
    },
  },

  // Traefik settings that users' stack files carry and portero has no use for.
  noPhoningHome('global.checkNewVersion', 'Traefik checks for new versions; portero never phones home'),
  noPhoningHome('global.sendAnonymousUsage', 'Traefik sends anonymous usage statistics; portero never phones home'),
  noPhoningHome('checkNewVersion', 'Traefik v1 spelling of --global.checkNewVersion'),
  noPhoningHome('sendAnonymousUsage', 'Traefik v1 spelling of --global.sendAnonymousUsage'),
];

/** A boolean that portero accepts and ignores, warning when it is set to true. */
function noPhoningHome(flag: string, describe: string): FlagSpec {
  return {
    flag,
    type: 'boolean',
    group: GROUPS.ignored,
    describe,
    apply: (d, raw, _n, what) => {
      if (parseBool(raw, what)) d.ignored.set(flag, `${what} is ignored: portero never checks for updates or sends usage data`);
      else d.ignored.delete(flag);
    },
  };
}

const PLACEHOLDER = '<name>';

interface CompiledSpec {
  spec: FlagSpec;
  /** Lower-cased segments; PLACEHOLDER stays as is. */
  segments: string[];
  /** Index of the placeholder segment, or -1. */
  hole: number;
}

const COMPILED: CompiledSpec[] = FLAG_SPECS.map((spec) => {
  const segments = spec.flag.split('.').map((s) => (s === PLACEHOLDER ? s : s.toLowerCase()));
  const hole = segments.indexOf(PLACEHOLDER);
  if (hole !== segments.lastIndexOf(PLACEHOLDER)) throw new Error(`flag ${spec.flag}: one <name> at most`);
  return { spec, segments, hole };
});

export interface FlagMatch {
  spec: FlagSpec;
  /** Values of the `<name>` segments. */
  names: string[];
  /** The canonical spelling with names filled in, e.g. "entrypoints.Web.address". */
  key: string;
}

/**
 * Finds the spec for a setting path, comparing case-insensitively as Traefik
 * does. `path` is the setting split into segments. With `nameJoin` set
 * (environment variables, whose separator is also legal inside names), a
 * `<name>` may span several segments, joined with it.
 */
export function matchFlag(path: readonly string[], nameJoin?: string): FlagMatch | undefined {
  const lower = path.map((s) => s.toLowerCase());
  let best: FlagMatch | undefined;
  let bestExtra = Infinity;
  for (const c of COMPILED) {
    const n = c.segments.length;
    if (c.hole < 0) {
      if (n === lower.length && c.segments.every((s, i) => s === lower[i])) {
        return { spec: c.spec, names: [], key: c.spec.flag };
      }
      continue;
    }
    const indexes: string[] = [];
    const same = (s: string, given: string | undefined): boolean => {
      if (given === undefined) return false;
      if (!s.endsWith('[]')) return s === given;
      // "domains[]" matches "domains[0]": a list item, as paerser spells them.
      const m = /^(.*)\[(\d+)\]$/.exec(given);
      if (m === null || m[1] !== s.slice(0, -2)) return false;
      indexes.push(m[2]!);
      return true;
    };
    // With nameJoin, the fewest segments in the name wins: for
    // TRAEFIK_ENTRYPOINTS_WEB_ADDRESS, "web" + address rather than "web_address".
    const extra = lower.length - n;
    if (extra < 0 || (extra > 0 && nameJoin === undefined) || extra >= bestExtra) continue;
    const tail = n - c.hole - 1;
    const headOk = c.segments.slice(0, c.hole).every((s, i) => same(s, lower[i]));
    const tailOk = c.segments.slice(c.hole + 1).every((s, i) => same(s, lower[lower.length - tail + i]));
    if (!headOk || !tailOk) continue;
    const name = path.slice(c.hole, c.hole + 1 + extra).join(nameJoin ?? '.');
    if (name === '') continue;
    const parts = c.spec.flag.split('.');
    parts[c.hole] = name;
    let index = 0;
    const key = parts.map((p) => (p.endsWith('[]') ? `${p.slice(0, -2)}[${indexes[index++]}]` : p)).join('.');
    best = { spec: c.spec, names: [name, ...indexes], key };
    bestExtra = extra;
  }
  return best;
}

/** True when `path` is a strict prefix of some setting (a section such as "serversTransport"). */
export function isSectionPath(path: readonly string[]): boolean {
  const lower = path.map((s) => s.toLowerCase());
  return COMPILED.some(
    (c) =>
      c.segments.length > lower.length && lower.every((s, i) => c.segments[i] === PLACEHOLDER || c.segments[i] === s),
  );
}

/** The closest known flag to an unknown one, for "did you mean". */
export function suggestFlag(path: readonly string[]): string | undefined {
  const wanted = path.join('.').toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(3, Math.floor(wanted.length / 5)) + 1;
  for (const c of COMPILED) {
    if (c.spec.hidden) continue;
    // Compare with the user's names substituted so only real typos count.
    const candidate = c.segments.map((s, i) => (s === PLACEHOLDER ? (path[i] ?? s) : s)).join('.');
    const d = editDistance(wanted, candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c.segments.map((s, i) => (s === PLACEHOLDER ? (path[i] ?? s) : c.spec.flag.split('.')[i])).join('.');
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
