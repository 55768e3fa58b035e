// Traefik v3 matchers (pkg/muxer/http/matcher.go): one value each, except
// Header/HeaderRegexp (key, value) and Query/QueryRegexp (key[, value]).
// Regexps are Go syntax and not anchored: they behave like MatchString.
import { ALWAYS, fail, regexpArg, type Built, type MatcherDef } from './def.js';
import { exactHostMatcher, isAscii, normalizeHostValue, wildcardHostMatcher } from './host.js';
import { containsIp, parseNetwork } from './ip.js';
import type { Arg } from './parser.js';
import { listContains, listMatches, routingPath, someQueryValue } from './request.js';

function def(name: string, minArgs: number, maxArgs: number, build: MatcherDef['build']): MatcherDef {
  return { name, minArgs, maxArgs, build };
}

export function asciiHost(arg: Arg, matcher: string): void {
  if (!isAscii(arg.value)) {
    fail(`invalid value ${JSON.stringify(arg.value)} for ${matcher}: non-ASCII characters are not allowed (use punycode)`, arg.pos);
  }
}

export function hostValue(arg: Arg, matcher: string): string {
  const h = normalizeHostValue(arg.value);
  if (h === '') fail(`invalid value ${JSON.stringify(arg.value)} for ${matcher}: no host name`, arg.pos);
  return h;
}

export function clientIpMatcher(args: Arg[], matcher: string): Built {
  const networks = args.map((a) => parseNetwork(a.value.trim()) ?? fail(`invalid IP or CIDR ${JSON.stringify(a.value)} for ${matcher}`, a.pos));
  return { match: (req) => containsIp(networks, req.clientIp), hosts: null };
}

export function pathValue(arg: Arg, matcher: string): string {
  if (!arg.value.startsWith('/')) fail(`path ${JSON.stringify(arg.value)} for ${matcher} does not start with '/'`, arg.pos);
  return arg.value;
}

export const V3_MATCHERS: MatcherDef[] = [
  def('ClientIP', 1, 1, (args) => clientIpMatcher(args, 'ClientIP')),

  def('Method', 1, 1, ([a]) => {
    const method = a.value.toUpperCase();
    return { match: (req) => req.method === method, hosts: null };
  }),

  def('Host', 1, 1, ([a]) => {
    // Host(`*`) matches every request, even one without a host (Traefik 3.7).
    if (a.value === '*') return ALWAYS;
    asciiHost(a, 'Host');
    const h = hostValue(a, 'Host');
    if (h.startsWith('*')) return { match: wildcardHostMatcher(h), hosts: null };
    return { match: exactHostMatcher([h]), hosts: [h] };
  }),

  def('HostRegexp', 1, 1, ([a]) => {
    asciiHost(a, 'HostRegexp');
    const re = regexpArg(a, 'HostRegexp');
    return { match: (req) => re.test(req.host), hosts: null };
  }),

  def('Path', 1, 1, ([a]) => {
    const path = pathValue(a, 'Path');
    return { match: (req) => routingPath(req.path) === path, hosts: null };
  }),

  def('PathPrefix', 1, 1, ([a]) => {
    const prefix = pathValue(a, 'PathPrefix');
    return { match: (req) => routingPath(req.path).startsWith(prefix), hosts: null };
  }),

  def('PathRegexp', 1, 1, ([a]) => {
    const re = regexpArg(a, 'PathRegexp');
    return { match: (req) => re.test(routingPath(req.path)), hosts: null };
  }),

  def('Header', 2, 2, ([k, v]) => {
    const key = k.value.toLowerCase();
    const value = v.value;
    return {
      match: (req) => {
        const got = req.headers[key];
        return got !== undefined && listContains(got, value);
      },
      hosts: null,
    };
  }),

  def('HeaderRegexp', 2, 2, ([k, v]) => {
    const key = k.value.toLowerCase();
    const re = regexpArg(v, 'HeaderRegexp');
    return {
      match: (req) => {
        const got = req.headers[key];
        return got !== undefined && listMatches(got, re);
      },
      hosts: null,
    };
  }),

  // Query(`k`) matches a parameter without value ("?k" or "?k="), as in Traefik.
  def('Query', 1, 2, ([k, v]) => {
    const key = k.value;
    const value = v?.value ?? '';
    const equals = (got: string): boolean => got === value;
    return { match: (req) => someQueryValue(req.query, key, equals), hosts: null };
  }),

  def('QueryRegexp', 1, 2, ([k, v]) => {
    const key = k.value;
    if (v === undefined) {
      const empty = (got: string): boolean => got === '';
      return { match: (req) => someQueryValue(req.query, key, empty), hosts: null };
    }
    const re = regexpArg(v, 'QueryRegexp');
    const test = (got: string): boolean => re.test(got);
    return { match: (req) => someQueryValue(req.query, key, test), hosts: null };
  }),
];
