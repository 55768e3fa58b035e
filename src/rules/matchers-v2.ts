// Traefik v2 syntax matchers (pkg/muxer/http/matcher_v2.go): multi-valued
// (values are ORed), gorilla/mux templates for HostRegexp, Path and
// PathPrefix, key/value pairs (ANDed) for Headers, HeadersRegexp and Query.
import { allOf, anyOf, pairs, regexpArg, templateArg, type Built, type MatcherDef } from './def.js';
import { exactHostMatcher } from './host.js';
import { asciiHost, clientIpMatcher, hostValue } from './matchers-v3.js';
import type { Arg } from './parser.js';
import type { Matcher } from './types.js';
import { firstQueryValue, listContains, listMatches, routingPath } from './request.js';

const MANY = Number.POSITIVE_INFINITY;

function def(name: string, minArgs: number, build: MatcherDef['build']): MatcherDef {
  return { name, minArgs, maxArgs: MANY, build };
}

export function hostsMatcher(args: Arg[], matcher: string, checkAscii: boolean): Built {
  const hosts = [...new Set(args.map((a) => {
    if (checkAscii) asciiHost(a, matcher);
    return hostValue(a, matcher);
  }))];
  return { match: exactHostMatcher(hosts), hosts };
}

/** Path or PathPrefix templates; values without {variables} compare as plain strings. */
export function pathsMatcher(args: Arg[], matcher: string, prefix: boolean): Built {
  const kind = prefix ? 'prefix' : 'path';
  const matchers = args.map((a): Matcher => {
    const re = templateArg(a, kind, matcher); // validates even the plain ones
    const literal = a.value;
    if (literal.includes('{')) return (req) => re.test(routingPath(req.path));
    if (prefix) return (req) => routingPath(req.path).startsWith(literal);
    return (req) => routingPath(req.path) === literal;
  });
  return { match: anyOf(matchers), hosts: null };
}

export function hostRegexpMatcher(args: Arg[], matcher: string, checkAscii: boolean): Built {
  const res = args.map((a) => {
    if (checkAscii) asciiHost(a, matcher);
    return templateArg(a, 'host', matcher);
  });
  return { match: anyOf(res.map((re): Matcher => (req) => re.test(req.host))), hosts: null };
}

export function methodsMatcher(args: Arg[]): Built {
  const methods = args.map((a) => a.value.toUpperCase());
  if (methods.length === 1) {
    const m = methods[0];
    return { match: (req) => req.method === m, hosts: null };
  }
  return { match: (req) => methods.includes(req.method), hosts: null };
}

/** mux Headers/HeadersRegexp: every key present, value equal / matching (a repeated key keeps its last value). */
export function headersMatcher(args: Arg[], matcher: string, regexp: boolean): Built {
  const byKey = new Map<string, Arg>();
  for (const [k, v] of pairs(args, matcher, false)) byKey.set(k.value.toLowerCase(), v);
  const matchers = [...byKey].map(([key, v]): Matcher => {
    if (regexp) {
      const re = regexpArg(v, matcher);
      return (req) => {
        const got = req.headers[key];
        return got !== undefined && listMatches(got, re);
      };
    }
    const value = v.value;
    return (req) => {
      const got = req.headers[key];
      return got !== undefined && (value === '' || listContains(got, value));
    };
  });
  return { match: allOf(matchers), hosts: null };
}

/** mux Queries: "key=template" tested against key + "=" + the key's first value. */
export function queryMatcher(args: Arg[], matcher: string): Built {
  const matchers = pairs(args, matcher, true).map(([k, v]): Matcher => {
    const tpl = `${k.value}=${v.value}`;
    const re = templateArg({ value: tpl, pos: k.pos }, 'query', matcher);
    const key = tpl.slice(0, tpl.indexOf('='));
    return (req) => {
      const got = firstQueryValue(req.query, key);
      return got !== null && re.test(`${key}=${got}`);
    };
  });
  return { match: allOf(matchers), hosts: null };
}

export const V2_MATCHERS: MatcherDef[] = [
  def('Host', 1, (args) => hostsMatcher(args, 'Host', true)),
  def('HostHeader', 1, (args) => hostsMatcher(args, 'HostHeader', true)),
  def('HostRegexp', 1, (args) => hostRegexpMatcher(args, 'HostRegexp', true)),
  def('ClientIP', 1, (args) => clientIpMatcher(args, 'ClientIP')),
  def('Path', 1, (args) => pathsMatcher(args, 'Path', false)),
  def('PathPrefix', 1, (args) => pathsMatcher(args, 'PathPrefix', true)),
  def('Method', 1, (args) => methodsMatcher(args)),
  def('Headers', 2, (args) => headersMatcher(args, 'Headers', false)),
  def('HeadersRegexp', 2, (args) => headersMatcher(args, 'HeadersRegexp', true)),
  def('Query', 1, (args) => queryMatcher(args, 'Query')),
];
