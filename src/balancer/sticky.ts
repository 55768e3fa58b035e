// Sticky sessions as Traefik keeps them: a cookie whose value is derived from
// the server itself (the first 16 hex digits of SHA-256 of its URL), so every
// worker and every portero on every manager maps the same cookie to the same
// server, and a Traefik cookie keeps working after a switch to portero. The
// default cookie name is Traefik's too: "_" and the start of SHA-1 of
// "_TRAEFIK_BACKEND_<service>".
import { createHash } from 'node:crypto';
import type { StickyCookieConfig } from '../dynamic/model.js';

/** What a load balancer needs to read and write its cookie: computed once on the main thread. */
export interface StickySpec {
  cookie: string;
  /** The Set-Cookie attributes after "name=value", as Go's http.SetCookie writes them. */
  attributes: string;
}

/** The cookie value that points at a server. */
export function stickyValue(serverUrl: string): string {
  return createHash('sha256').update(serverUrl).digest('hex').slice(0, 16);
}

/** Traefik's cookie name: the configured one with characters outside RFC 2616's token replaced by "_", else one made from the service. */
export function stickyCookieName(configured: string | undefined, service: string): string {
  if (configured !== undefined && configured !== '') return configured.replace(/[^!#$%&'*+\-.^`|~0-9A-Za-z]/g, '_');
  return `_${createHash('sha1').update(`_TRAEFIK_BACKEND_${service}`).digest('hex')}`.slice(0, 6);
}

/** The spec of a load balancer's sticky cookie. */
export function stickySpec(c: StickyCookieConfig, service: string): StickySpec {
  let attributes = `; Path=${c.path ?? '/'}`;
  if (c.domain !== undefined && c.domain !== '') attributes += `; Domain=${c.domain.replace(/^\./, '')}`;
  if (c.maxAge !== undefined && c.maxAge > 0) attributes += `; Max-Age=${c.maxAge}`;
  else if (c.maxAge !== undefined && c.maxAge < 0) attributes += '; Max-Age=0';
  if (c.httpOnly === true) attributes += '; HttpOnly';
  if (c.secure === true) attributes += '; Secure';
  const sameSite = (c.sameSite ?? '').toLowerCase();
  if (sameSite === 'none') attributes += '; SameSite=None';
  else if (sameSite === 'lax') attributes += '; SameSite=Lax';
  else if (sameSite === 'strict') attributes += '; SameSite=Strict';
  return { cookie: stickyCookieName(c.name, service), attributes };
}

/** The value of cookie `name` in a Cookie header, or ''. */
export function cookieValue(header: string | undefined, name: string): string {
  if (header === undefined) return '';
  let at = 0;
  while (at < header.length) {
    let end = header.indexOf(';', at);
    if (end === -1) end = header.length;
    const eq = header.indexOf('=', at);
    if (eq !== -1 && eq < end && header.slice(at, eq).trim() === name) return header.slice(eq + 1, end).trim().replace(/^"(.*)"$/, '$1');
    at = end + 1;
  }
  return '';
}
