// Static settings for HTTPS: an entry point's TLS defaults and redirection
// (--entrypoints.<n>.http.*), Let's Encrypt resolvers (--certificatesresolvers.*),
// and Traefik v1's --entryPoints='Name:https Address::443 TLS' spelling.
import { ACME_FLAG_SPECS, finalizeResolvers, type AcmeDraft, type AcmeResolverConfig } from './acme.js';
import { ConfigUsageError } from './errors.js';
import type { FlagSpec as FlagRow } from './flag-spec.js';
import { parseAddress, parseBool, parseInteger, parseText, type ListenAddress } from './values.js';

export type { AcmeResolverConfig } from './acme.js';

export interface TlsDomain {
  main: string;
  sans: string[];
}

/** An entry point's `http.tls`: every router on it is a TLS router with these defaults. */
export interface EntryPointTls {
  /** Set by http.tls or v1's TLS: routers without entryPoints come here too. False: TLS only because of port 443. */
  explicit: boolean;
  certResolver?: string;
  domains: TlsDomain[];
}

export interface RedirectionConfig {
  /** Target entry point name. */
  to: string;
  /** Default https. */
  scheme: string;
  /** Default true: 301/308; false: 302/307. */
  permanent: boolean;
  /** Routers with a higher priority win over the redirection (default MaxInt32 - 1). */
  priority: number;
}

export const DEFAULT_REDIRECT_PRIORITY = 2147483646;

/** Per entry point, keyed like Draft.entryPoints (lower-cased name). */
export interface EntryPointTlsDraft {
  /** --entrypoints.<n>.http.tls given (any of its settings). */
  tls?: boolean;
  certResolver?: string;
  domains: Map<number, { main?: string; sans?: string[] }>;
  redirect?: { to?: string; scheme?: string; permanent?: boolean; priority?: number };
}

/** A v1 --entryPoints definition, already parsed. */
export interface V1EntryPoint {
  name: string;
  listen: ListenAddress;
  tls: boolean;
  /** TLS:cert,key pairs (file paths). */
  certificates: { certFile: string; keyFile: string }[];
  redirectTo?: string;
  redirectPermanent?: boolean;
}

export interface TlsDrafts {
  entryPoints: Map<string, EntryPointTlsDraft>;
  resolvers: Map<string, AcmeDraft>;
  v1EntryPoints: V1EntryPoint[];
  defaultEntryPoints?: string[];
}

export function emptyTlsDrafts(): TlsDrafts {
  return { entryPoints: new Map(), resolvers: new Map(), v1EntryPoints: [] };
}

/** The part of flags.ts's Draft these rows fill in. */
export interface HasTls {
  tls: TlsDrafts;
}
type FlagSpec = FlagRow<HasTls>;

function ep(d: HasTls, name: string): EntryPointTlsDraft {
  const key = name.toLowerCase();
  let e = d.tls.entryPoints.get(key);
  if (e === undefined) {
    e = { domains: new Map() };
    d.tls.entryPoints.set(key, e);
  }
  return e;
}

export function list(raw: unknown, what: string): string[] {
  if (Array.isArray(raw)) return raw.map((v, i) => parseText(v, `${what}[${i}]`));
  return parseText(raw, what)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function domainName(raw: unknown, what: string): string {
  const name = parseText(raw, what).toLowerCase();
  if (!/^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(name)) {
    throw new ConfigUsageError(`${what}: ${JSON.stringify(raw)} is not a domain name`);
  }
  return name;
}

/** `domains` from a YAML file: a list of {main, sans}. */
function domainList(raw: unknown, what: string): Map<number, { main?: string; sans?: string[] }> {
  if (!Array.isArray(raw)) throw new ConfigUsageError(`${what}: expected a list of {main, sans}`);
  const out = new Map<number, { main?: string; sans?: string[] }>();
  raw.forEach((item, i) => {
    if (typeof item !== 'object' || item === null) throw new ConfigUsageError(`${what}[${i}]: expected {main, sans}`);
    const o = item as Record<string, unknown>;
    const entry: { main?: string; sans?: string[] } = {};
    for (const [k, v] of Object.entries(o)) {
      if (k.toLowerCase() === 'main') entry.main = domainName(v, `${what}[${i}].main`);
      else if (k.toLowerCase() === 'sans') entry.sans = list(v, `${what}[${i}].sans`).map((s, j) => domainName(s, `${what}[${i}].sans[${j}]`));
      else throw new ConfigUsageError(`${what}[${i}]: unknown key ${JSON.stringify(k)} (expected main, sans)`);
    }
    out.set(i, entry);
  });
  return out;
}

const GROUP_TLS = 'HTTPS:';

export const TLS_FLAG_SPECS: readonly FlagSpec[] = [
  {
    flag: 'entrypoints.<name>.http.tls',
    type: 'boolean',
    group: GROUP_TLS,
    describe: 'Entry point <name> serves TLS; every router on it is a TLS router',
    defaultText: 'false (true for port 443)',
    apply: (d, raw, [name], what) => {
      ep(d, name!).tls = parseBool(raw, what);
    },
  },
  {
    flag: 'entrypoints.<name>.http.tls.certResolver',
    type: 'string',
    group: GROUP_TLS,
    describe: 'Default certificate resolver of the routers on entry point <name>',
    apply: (d, raw, [name], what) => {
      const e = ep(d, name!);
      e.tls = true;
      e.certResolver = parseText(raw, what);
    },
  },
  {
    flag: 'entrypoints.<name>.http.tls.options',
    type: 'string',
    group: GROUP_TLS,
    describe: 'TLS options of entry point <name>: only "default" (portero has no TLS options)',
    apply: (d, raw, [name], what) => {
      const v = parseText(raw, what);
      if (v.toLowerCase() !== 'default') throw new ConfigUsageError(`${what}: TLS options are not supported by portero (only "default")`);
      ep(d, name!).tls = true;
    },
  },
  {
    flag: 'entrypoints.<name>.http.tls.domains',
    type: 'string',
    group: GROUP_TLS,
    describe: 'Domains of entry point <name>\'s certificates (YAML list of {main, sans})',
    hidden: true,
    apply: (d, raw, [name], what) => {
      const e = ep(d, name!);
      e.tls = true;
      e.domains = domainList(raw, what);
    },
  },
  {
    flag: 'entrypoints.<name>.http.tls.domains[].main',
    type: 'string',
    group: GROUP_TLS,
    describe: 'Main domain of certificate n for entry point <name> (domains[n].main)',
    apply: (d, raw, [name, index], what) => {
      const e = ep(d, name!);
      e.tls = true;
      const slot = e.domains.get(Number(index)) ?? {};
      slot.main = domainName(raw, what);
      e.domains.set(Number(index), slot);
    },
  },
  {
    flag: 'entrypoints.<name>.http.tls.domains[].sans',
    type: 'string',
    group: GROUP_TLS,
    describe: 'Comma-separated extra names of certificate n for entry point <name>',
    apply: (d, raw, [name, index], what) => {
      const e = ep(d, name!);
      e.tls = true;
      const slot = e.domains.get(Number(index)) ?? {};
      slot.sans = list(raw, what).map((s) => domainName(s, what));
      e.domains.set(Number(index), slot);
    },
  },
  {
    flag: 'entrypoints.<name>.http.redirections.entryPoint.to',
    type: 'string',
    group: GROUP_TLS,
    describe: 'Redirect every request on entry point <name> to this entry point',
    apply: (d, raw, [name], what) => {
      (ep(d, name!).redirect ??= {}).to = parseText(raw, what);
    },
  },
  {
    flag: 'entrypoints.<name>.http.redirections.entryPoint.scheme',
    type: 'string',
    group: GROUP_TLS,
    describe: 'Scheme of the redirection',
    defaultText: 'https',
    apply: (d, raw, [name], what) => {
      const scheme = parseText(raw, what).toLowerCase();
      if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) throw new ConfigUsageError(`${what}: ${JSON.stringify(raw)} is not a URL scheme`);
      (ep(d, name!).redirect ??= {}).scheme = scheme;
    },
  },
  {
    flag: 'entrypoints.<name>.http.redirections.entryPoint.permanent',
    type: 'boolean',
    group: GROUP_TLS,
    describe: 'Permanent redirection: 301 (GET, HEAD) or 308; else 302 or 307',
    defaultText: 'true',
    apply: (d, raw, [name], what) => {
      (ep(d, name!).redirect ??= {}).permanent = parseBool(raw, what);
    },
  },
  {
    flag: 'entrypoints.<name>.http.redirections.entryPoint.priority',
    type: 'string',
    group: GROUP_TLS,
    describe: 'Routers with a higher priority are served instead of redirected',
    defaultText: String(DEFAULT_REDIRECT_PRIORITY),
    apply: (d, raw, [name], what) => {
      (ep(d, name!).redirect ??= {}).priority = parseInteger(raw, what, 1);
    },
  },
  ...ACME_FLAG_SPECS,
  {
    flag: 'entryPoints',
    type: 'string',
    group: GROUP_TLS,
    describe: "Traefik v1 entry point: 'Name:https Address::443 TLS[:cert,key]' or 'Name:http Address::80 Redirect.EntryPoint:https' (repeatable)",
    repeatable: true,
    apply: (d, raw, _n, what) => {
      const values = Array.isArray(raw) ? raw : [raw];
      for (const v of values) d.tls.v1EntryPoints.push(parseV1EntryPoint(parseText(v, what), what));
    },
  },
  {
    flag: 'defaultEntryPoints',
    type: 'string',
    group: GROUP_TLS,
    describe: 'Traefik v1: entry points of routers that name none (comma-separated)',
    defaultText: 'all',
    apply: (d, raw, _n, what) => {
      d.tls.defaultEntryPoints = list(raw, what);
    },
  },
];

/** Parses v1's 'Name:https Address::443 TLS:/c.pem,/k.pem Redirect.EntryPoint:https'. */
export function parseV1EntryPoint(text: string, what: string): V1EntryPoint {
  let name: string | undefined;
  let listen: ListenAddress | undefined;
  let tls = false;
  const certificates: V1EntryPoint['certificates'] = [];
  let redirectTo: string | undefined;
  let redirectPermanent: boolean | undefined;
  for (const field of text.trim().split(/\s+/)) {
    const colon = field.indexOf(':');
    const key = (colon < 0 ? field : field.slice(0, colon)).toLowerCase();
    const value = colon < 0 ? '' : field.slice(colon + 1);
    if (key === 'name') name = parseText(value, `${what} Name`);
    else if (key === 'address') listen = parseAddress(value, `${what} Address`);
    else if (key === 'tls') {
      tls = true;
      for (const pair of value === '' ? [] : value.split(';')) {
        const [certFile, keyFile, extra] = pair.split(',');
        if (!certFile || !keyFile || extra !== undefined) throw new ConfigUsageError(`${what}: TLS:${value}: expected TLS:certFile,keyFile`);
        certificates.push({ certFile, keyFile });
      }
    } else if (key === 'redirect.entrypoint') redirectTo = parseText(value, `${what} Redirect.EntryPoint`);
    else if (key === 'redirect.permanent') redirectPermanent = parseBool(value, `${what} Redirect.Permanent`);
    else if (key === 'compress') continue;
    else throw new ConfigUsageError(`${what}: ${JSON.stringify(field)} is not supported by portero (it reads Name, Address, TLS, Redirect.EntryPoint, Redirect.Permanent)`);
  }
  if (name === undefined) throw new ConfigUsageError(`${what}: no Name: in ${JSON.stringify(text)}`);
  if (listen === undefined) throw new ConfigUsageError(`${what}: no Address: in ${JSON.stringify(text)}`);
  return { name, listen, tls, certificates, redirectTo, redirectPermanent };
}

export interface FinalTls {
  /** By entry point name (as configured). */
  entryPointTls: Map<string, EntryPointTls | null>;
  redirects: Map<string, RedirectionConfig>;
  resolvers: AcmeResolverConfig[];
  /** v1 TLS:cert,key pairs, served as file certificates. */
  staticCertificates: { certFile: string; keyFile: string }[];
  defaultEntryPoints?: string[];
}

/**
 * Settles TLS for the finished entry points: `ports` maps every entry point
 * name to its port. An entry point serves TLS when it has http.tls settings,
 * v1's TLS, or port 443 (where nobody serves plain HTTP).
 */
export function finalizeTls(d: TlsDrafts, ports: ReadonlyMap<string, number>): FinalTls {
  const byLower = new Map([...ports.keys()].map((n) => [n.toLowerCase(), n]));
  const known = (name: string, what: string): string => {
    const n = byLower.get(name.toLowerCase());
    if (n === undefined) throw new ConfigUsageError(`${what}: unknown entry point ${JSON.stringify(name)}`);
    return n;
  };
  const out: FinalTls = { entryPointTls: new Map(), redirects: new Map(), resolvers: [], staticCertificates: [] };
  for (const lower of d.entryPoints.keys()) {
    if (!byLower.has(lower)) throw new ConfigUsageError(`--entrypoints.${lower}.http.*: entry point "${lower}" has no address`);
  }
  for (const [lower, name] of byLower) {
    const e = d.entryPoints.get(lower);
    const v1 = d.v1EntryPoints.find((v) => v.name.toLowerCase() === lower);
    const isTls = e?.tls ?? (v1?.tls || ports.get(name) === 443);
    if (!isTls) out.entryPointTls.set(name, null);
    else {
      const domains: TlsDomain[] = [];
      for (const [i, dom] of [...(e?.domains ?? new Map<number, { main?: string; sans?: string[] }>())].sort((a, b) => a[0] - b[0])) {
        if (dom.main === undefined) throw new ConfigUsageError(`--entrypoints.${name}.http.tls.domains[${i}]: has sans but no main`);
        domains.push({ main: dom.main, sans: dom.sans ?? [] });
      }
      out.entryPointTls.set(name, { explicit: e?.tls === true || v1?.tls === true, ...(e?.certResolver === undefined ? {} : { certResolver: e.certResolver }), domains });
    }
    const r = e?.redirect;
    const to = r?.to ?? v1?.redirectTo;
    if (r !== undefined && r.to === undefined) throw new ConfigUsageError(`--entrypoints.${name}.http.redirections.entryPoint: needs .to`);
    if (to !== undefined) {
      out.redirects.set(name, {
        to: known(to, `--entrypoints.${name}.http.redirections.entryPoint.to`),
        scheme: r?.scheme ?? 'https',
        permanent: r?.permanent ?? v1?.redirectPermanent ?? true,
        priority: r?.priority ?? DEFAULT_REDIRECT_PRIORITY,
      });
    }
  }
  for (const v1 of d.v1EntryPoints) out.staticCertificates.push(...v1.certificates);
  out.resolvers = finalizeResolvers(d.resolvers, known);
  for (const [name, t] of out.entryPointTls) {
    if (t?.certResolver !== undefined && !out.resolvers.some((r) => r.name.toLowerCase() === t.certResolver!.toLowerCase())) {
      throw new ConfigUsageError(`--entrypoints.${name}.http.tls.certResolver: unknown resolver ${JSON.stringify(t.certResolver)}`);
    }
  }
  if (d.defaultEntryPoints !== undefined) out.defaultEntryPoints = d.defaultEntryPoints.map((n) => known(n, '--defaultEntryPoints'));
  return out;
}
