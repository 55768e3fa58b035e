// Sticky sessions as Traefik keeps them: a cookie whose value is derived from
// the server itself (the first 16 hex digits of SHA-256 of its URL), so every
// worker and every portero on every manager maps the same cookie to the same
// server, and a Traefik cookie keeps working after a switch to portero. The
// default cookie name is Traefik's too: "_" and the start of SHA-1 of
// "_TRAEFIK_BACKEND_<service>". A sticky weighted service has a cookie of its
// own naming a child (by a hash of the child's name), and a sticky child keeps
// its own cookie below it: Traefik's nested cookies.
import { createHash } from 'node:crypto';
import type { StickyCookieConfig } from '../dynamic/model.js';
import type { SharedState } from '../shared/shared-state.js';
import { pickUpServer } from './pick.js';
import type { ServerRuntime, ServiceRuntime } from './runtime.js';

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
  if (header === undefined || header === '') return '';
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

/**
 * The server the request's cookies pin it to while it is up, or null (the
 * balancer picks). Through a sticky weighted service, the pinned child is kept
 * while it has a server up, and its own cookie (or its balancer) picks within it.
 */
export function stickyServer(service: ServiceRuntime, cookies: string, state: SharedState): ServerRuntime | null {
  if (service.sticky === null) return null;
  if (service.kind === 'lb') {
    const s = service.sticky.byValue.get(cookieValue(cookies, service.sticky.cookie));
    return s !== undefined && state.isUp(s.slot) ? s : null;
  }
  const i = service.sticky.byValue.get(cookieValue(cookies, service.sticky.cookie));
  if (i === undefined) return null;
  const child = service.children[i]!;
  return stickyServer(child, cookies, state) ?? pickUpServer(child, state);
}

function contains(service: ServiceRuntime, server: ServerRuntime): boolean {
  return service.kind === 'lb' ? server.service === service.rr : service.children.some((c) => contains(c, server));
}

/**
 * The balancer's pick, or, when it fell in a sticky load balancer whose
 * cookie names another server of it that is up, that server: below a weighted
 * service that is not sticky, a sticky child keeps its clients whenever the
 * weighted pick lands on it, as in Traefik.
 */
export function stickyWithin(service: ServiceRuntime, picked: ServerRuntime, cookies: string, state: SharedState): ServerRuntime {
  let s: ServiceRuntime | undefined = service;
  while (s !== undefined && s.kind === 'weighted') s = s.children.find((c) => contains(c, picked));
  if (s === undefined || s.sticky === null) return picked;
  const pinned = s.sticky.byValue.get(cookieValue(cookies, s.sticky.cookie));
  return pinned !== undefined && pinned !== picked && state.isUp(pinned.slot) ? pinned : picked;
}

/** The Set-Cookie values that make the request's cookies name `server` at every sticky level; null when they already do. */
export function stickySetCookies(service: ServiceRuntime, server: ServerRuntime, cookies: string): string[] | null {
  let out: string[] | null = null;
  let s: ServiceRuntime | undefined = service;
  while (s !== undefined) {
    if (s.kind === 'lb') {
      if (s.sticky !== null && server.stickyCookie !== null && s.sticky.byValue.get(cookieValue(cookies, s.sticky.cookie)) !== server) (out ??= []).push(server.stickyCookie);
      break;
    }
    const i: number = s.children.findIndex((c) => contains(c, server));
    if (i === -1) break;
    if (s.sticky !== null && s.sticky.byValue.get(cookieValue(cookies, s.sticky.cookie)) !== i) (out ??= []).push(s.sticky.setCookies[i]!);
    s = s.children[i];
  }
  return out;
}
