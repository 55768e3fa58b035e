// forwardAuth: asks an auth server about each request before forwarding it.
// The call is a GET (or the request's method with preserveRequestMethod)
// carrying the request's headers and X-Forwarded-Method/Proto/Host/Uri/For;
// a 2xx lets the request through, with the auth server's chosen headers
// copied onto it; any other answer goes back to the client as the auth server
// gave it; an auth server that cannot be reached means 500, as in Traefik.
// The call goes through the worker's keep-alive pools (side-request.ts) while
// the client's request waits, its body held.
import { lineValue, removeLine } from './header-lines.js';
import { bool, list, options, text } from './options.js';
import { MiddlewareError, type Answer, type ForwardedRequest, type MiddlewareKind } from './types.js';
import { sideRequest, type SideResponse } from '../upstream/side-request.js';

interface Options {
  host: string;
  port: number;
  https: boolean;
  /** Path and query of the address, as the auth request's target. */
  target: string;
  trustForwardHeader: boolean;
  authResponseHeaders: string[];
  authResponseHeadersRegex: string;
  authRequestHeaders: string[];
  addAuthCookiesToResponse: string[];
  preserveRequestMethod: boolean;
}

/** Traefik's http.Client for forwardAuth has a 30 s timeout. */
const TIMEOUT_MS = 30_000;
/** An auth server's denial is shown to the client: kept in memory, so bounded. */
const MAX_AUTH_BODY = 1024 * 1024;
const FORWARDED = ['x-forwarded-method', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-uri', 'x-forwarded-for'];

/** Only the named header lines (lower-cased names). */
function keepLines(lines: string, names: ReadonlySet<string>): string {
  return lines
    .split('\r\n')
    .filter((l) => l !== '' && names.has(l.slice(0, l.indexOf(':'))))
    .map((l) => `${l}\r\n`)
    .join('');
}

function authHead(o: Options, req: ForwardedRequest, requestHeaders: ReadonlySet<string> | null): string {
  let lines = requestHeaders === null ? req.lines : keepLines(req.lines, requestHeaders);
  const trusted = (name: string) => (o.trustForwardHeader ? lineValue(req.lines, name) : '');
  const uri = req.query === '' ? req.path : `${req.path}?${req.query}`;
  const forwarded: [string, string][] = [
    ['x-forwarded-method', trusted('x-forwarded-method') || req.method],
    ['x-forwarded-proto', trusted('x-forwarded-proto') || (req.tls ? 'https' : 'http')],
    ['x-forwarded-host', trusted('x-forwarded-host') || req.hostHeader],
    ['x-forwarded-uri', trusted('x-forwarded-uri') || uri],
    ['x-forwarded-for', trusted('x-forwarded-for') || req.view.clientIp],
  ];
  for (const name of FORWARDED) lines = removeLine(lines, name);
  for (const [k, v] of forwarded) lines += `${k}: ${v}\r\n`;
  const method = o.preserveRequestMethod ? req.method : 'GET';
  const authority = o.port === (o.https ? 443 : 80) ? o.host : `${o.host}:${o.port}`;
  return `${method} ${o.target} HTTP/1.1\r\nhost: ${authority}\r\n${lines}\r\n`;
}

/** The auth server's answer as the client's (the response parser already dropped its hop-by-hop and framing headers). */
function denial(r: SideResponse): Answer {
  const headers: [string, string][] = [];
  for (let i = 0; i < r.headers.length; i += 2) headers.push([r.headers[i]!, r.headers[i + 1]!]);
  return { status: r.status, headers, body: r.body };
}

function cookieName(setCookie: string): string {
  return setCookie.slice(0, setCookie.indexOf('=')).trim();
}

export const forwardAuth: MiddlewareKind<Options> = {
  name: 'forwardAuth',
  parse(raw) {
    const o = options(raw, 'forwardAuth', [
      'address',
      'trustForwardHeader',
      'authResponseHeaders',
      'authResponseHeadersRegex',
      'authRequestHeaders',
      'addAuthCookiesToResponse',
      'preserveRequestMethod',
      'forwardBody',
      'tls',
    ]);
    if (!o.has('address')) throw new MiddlewareError('forwardAuth needs an address (http://auth:4181/verify)');
    const address = text(o.get('address'), 'forwardAuth.address');
    let url: URL;
    try {
      url = new URL(address);
    } catch {
      throw new MiddlewareError(`forwardAuth.address ${JSON.stringify(address)} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new MiddlewareError(`forwardAuth.address must be http:// or https://, got ${JSON.stringify(address)}`);
    if (o.has('forwardBody') && bool(o.get('forwardBody'), 'forwardAuth.forwardBody')) throw new MiddlewareError('forwardAuth.forwardBody is not supported: the auth request never carries the body');
    if (o.has('tls')) throw new MiddlewareError('forwardAuth.tls (client certificates, a CA) is not supported: an https address is checked against the system CAs and serversTransport.rootCAs');
    const regex = o.has('authResponseHeadersRegex') ? text(o.get('authResponseHeadersRegex'), 'forwardAuth.authResponseHeadersRegex') : '';
    if (regex !== '') {
      try {
        new RegExp(regex, 'i');
      } catch (err) {
        throw new MiddlewareError(`forwardAuth.authResponseHeadersRegex: ${(err as Error).message}`);
      }
    }
    const names = (key: string) => (o.has(key) ? list(o.get(key), `forwardAuth.${key}`).map((n) => n.toLowerCase()) : []);
    const https = url.protocol === 'https:';
    return {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? (https ? 443 : 80) : Number(url.port),
      https,
      target: `${url.pathname}${url.search}`,
      trustForwardHeader: o.has('trustForwardHeader') ? bool(o.get('trustForwardHeader'), 'forwardAuth.trustForwardHeader') : false,
      authResponseHeaders: names('authResponseHeaders'),
      authResponseHeadersRegex: regex,
      authRequestHeaders: names('authRequestHeaders'),
      addAuthCookiesToResponse: o.has('addAuthCookiesToResponse') ? list(o.get('addAuthCookiesToResponse'), 'forwardAuth.addAuthCookiesToResponse') : [],
      preserveRequestMethod: o.has('preserveRequestMethod') ? bool(o.get('preserveRequestMethod'), 'forwardAuth.preserveRequestMethod') : false,
    };
  },
  build(o, ctx) {
    const pool = ctx.pool(o.host, o.port, o.https);
    const requestHeaders = o.authRequestHeaders.length === 0 ? null : new Set(o.authRequestHeaders);
    const copyRegex = o.authResponseHeadersRegex === '' ? null : new RegExp(o.authResponseHeadersRegex, 'i');
    const cookies = new Set(o.addAuthCookiesToResponse);
    const failed: Answer = { status: 500, headers: [], body: 'Internal Server Error\n' };
    return {
      request(req) {
        // The view is valid only now: everything the answer needs is read before the call.
        const head = authHead(o, req, requestHeaders);
        return sideRequest(pool, head, { timeoutMs: TIMEOUT_MS, maxBodyBytes: MAX_AUTH_BODY }).then(
          (r) => {
            if (r.status < 200 || r.status > 299) return denial(r);
            const h = r.headers;
            for (const name of o.authResponseHeaders) req.lines = removeLine(req.lines, name);
            if (copyRegex !== null) for (const l of req.lines.split('\r\n')) if (l !== '' && copyRegex.test(l.slice(0, l.indexOf(':')))) req.lines = removeLine(req.lines, l.slice(0, l.indexOf(':')));
            for (let i = 0; i < h.length; i += 2) {
              const name = h[i]!.toLowerCase();
              if (o.authResponseHeaders.includes(name) || (copyRegex !== null && copyRegex.test(name))) req.lines += `${name}: ${h[i + 1]}\r\n`;
            }
            if (cookies.size > 0) {
              const add: string[] = [];
              for (let i = 0; i < h.length; i += 2) if (h[i]!.toLowerCase() === 'set-cookie' && cookies.has(cookieName(h[i + 1]!))) add.push(h[i + 1]!);
              if (add.length > 0) (req.responseEdits ??= []).push((headers) => {
                for (const c of add) headers.push('set-cookie', c);
              });
            }
            return null;
          },
          () => failed,
        );
      },
    };
  },
};
