// Host matching. RequestView.host is already lower-cased with the port,
// IPv6 brackets and trailing dot removed; rule values are brought to the same
// form here, once, so the per-request check is a plain string comparison.
import type { Matcher } from './types.js';

/**
 * "Example.COM." -> "example.com", "a.b:8080" -> "a.b", "[::1]:443" -> "::1".
 * (Traefik would never match a rule value carrying a port; we ignore the port.)
 */
export function normalizeHostValue(value: string): string {
  let h = value.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end !== -1) h = h.slice(1, end);
  } else {
    const colon = h.indexOf(':');
    if (colon !== -1 && colon === h.lastIndexOf(':') && /^\d*$/.test(h.slice(colon + 1))) h = h.slice(0, colon);
  }
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/** The port of a Host header ("a:8080" -> "8080"), "" when it has none. */
export function hostPort(host: string): string {
  const close = host.lastIndexOf(']');
  const colon = host.lastIndexOf(':');
  return colon > close ? host.slice(colon + 1) : '';
}

/** A Host header without its port, IPv6 brackets kept ("[::1]:80" -> "[::1]"). */
export function hostWithoutPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Exact match against one of the (normalized) hosts. */
export function exactHostMatcher(hosts: string[]): Matcher {
  if (hosts.length === 1) {
    const h = hosts[0];
    return (req) => req.host === h;
  }
  if (hosts.length <= 8) return (req) => hosts.includes(req.host);
  const set = new Set(hosts);
  return (req) => set.has(req.host);
}

/**
 * Traefik v3.7 single-label wildcard: "*.example.com" matches
 * "foo.example.com" but neither "example.com" nor "a.b.example.com".
 */
export function wildcardHostMatcher(expr: string): Matcher {
  const suffix = expr.slice(1); // ".example.com" (anything after the '*')
  return (req) => {
    const h = req.host;
    const dot = h.indexOf('.');
    return dot !== -1 && h.length - dot === suffix.length && h.startsWith(suffix, dot);
  };
}
