// Traefik's headers middleware: custom request and response headers (an
// empty value removes one), the security headers of unrolled/secure that
// Traefik wraps (allowedHosts, HSTS, frame options, nosniff, XSS filter, CSP,
// referrer and permissions policies, HPKP), and CORS with preflight answered here.
import { compileGoRegexp } from '../rules/index.js';
import { removeLine, removeHeader, setHeader, setLine, getHeader } from './header-lines.js';
import { bool, headerMap, headerValue, int, list, options } from './options.js';
import { MiddlewareError, type Answer, type ForwardedRequest, type MiddlewareKind, type ResponseEdit } from './types.js';

const KEYS = [
  'customRequestHeaders', 'customResponseHeaders',
  'accessControlAllowCredentials', 'accessControlAllowHeaders', 'accessControlAllowMethods', 'accessControlAllowOriginList',
  'accessControlAllowOriginListRegex', 'accessControlExposeHeaders', 'accessControlMaxAge', 'addVaryHeader',
  'allowedHosts', 'hostsProxyHeaders', 'sslProxyHeaders', 'stsSeconds', 'stsIncludeSubdomains', 'stsPreload', 'forceSTSHeader',
  'frameDeny', 'customFrameOptionsValue', 'contentTypeNosniff', 'browserXssFilter', 'customBrowserXSSValue',
  'contentSecurityPolicy', 'contentSecurityPolicyReportOnly', 'publicKey', 'referrerPolicy', 'featurePolicy', 'permissionsPolicy', 'isDevelopment',
  // Deprecated in Traefik (use redirectScheme): refused below with that advice.
  'sslRedirect', 'sslTemporaryRedirect', 'sslHost', 'sslForceHost',
] as const;

interface Options {
  request: [string, string][];
  response: [string, string][];
  cors: {
    credentials: boolean;
    allowHeaders: string[];
    allowMethods: string[];
    origins: string[];
    originRegex: string[];
    expose: string[];
    maxAge: number | null;
    vary: boolean;
  } | null;
  allowedHosts: string[];
  hostsProxyHeaders: string[];
  sslProxyHeaders: [string, string][];
  /** Security headers set on every response; HSTS separately (HTTPS only unless forced). */
  secure: [string, string][];
  sts: string | null;
  forceSTS: boolean;
  isDevelopment: boolean;
}

const NO_HEADERS: Record<string, string> = {};

export const headers: MiddlewareKind<Options> = {
  name: 'headers',
  parse(raw) {
    const o = options(raw, 'headers', KEYS);
    for (const k of ['sslRedirect', 'sslTemporaryRedirect', 'sslHost', 'sslForceHost'] as const) {
      if (o.has(k)) throw new MiddlewareError(`headers.${k} is deprecated in Traefik and not supported by portero: use a redirectScheme middleware or an entry point redirection`);
    }
    const b = (k: (typeof KEYS)[number]) => (o.has(k) ? bool(o.get(k), `headers.${k}`) : false);
    const s = (k: (typeof KEYS)[number]) => (o.has(k) ? headerValue(o.get(k), `headers.${k}`) : '');
    const l = (k: (typeof KEYS)[number]) => (o.has(k) ? list(o.get(k), `headers.${k}`) : []);
    const originRegex = l('accessControlAllowOriginListRegex');
    for (const r of originRegex) compileGoRegexp(r);
    const hasCors = ['accessControlAllowCredentials', 'accessControlAllowHeaders', 'accessControlAllowMethods', 'accessControlAllowOriginList', 'accessControlAllowOriginListRegex', 'accessControlExposeHeaders', 'accessControlMaxAge', 'addVaryHeader'].some((k) => o.has(k));
    const secure: [string, string][] = [];
    const frame = s('customFrameOptionsValue') || (b('frameDeny') ? 'DENY' : '');
    if (frame) secure.push(['X-Frame-Options', frame]);
    if (b('contentTypeNosniff')) secure.push(['X-Content-Type-Options', 'nosniff']);
    const xss = s('customBrowserXSSValue') || (b('browserXssFilter') ? '1; mode=block' : '');
    if (xss) secure.push(['X-XSS-Protection', xss]);
    for (const [k, h] of [['contentSecurityPolicy', 'Content-Security-Policy'], ['contentSecurityPolicyReportOnly', 'Content-Security-Policy-Report-Only'], ['publicKey', 'Public-Key-Pins'], ['referrerPolicy', 'Referrer-Policy'], ['permissionsPolicy', 'Permissions-Policy'], ['featurePolicy', 'Feature-Policy']] as const) {
      if (s(k)) secure.push([h, s(k)]);
    }
    const stsSeconds = o.has('stsSeconds') ? int(o.get('stsSeconds'), 'headers.stsSeconds', 0) : 0;
    const sts = stsSeconds > 0 ? `max-age=${stsSeconds}${b('stsIncludeSubdomains') ? '; includeSubDomains' : ''}${b('stsPreload') ? '; preload' : ''}` : null;
    return {
      request: o.has('customRequestHeaders') ? headerMap(o.get('customRequestHeaders'), 'headers.customRequestHeaders') : [],
      response: o.has('customResponseHeaders') ? headerMap(o.get('customResponseHeaders'), 'headers.customResponseHeaders') : [],
      cors: hasCors
        ? {
            credentials: b('accessControlAllowCredentials'),
            allowHeaders: l('accessControlAllowHeaders'),
            allowMethods: l('accessControlAllowMethods'),
            origins: l('accessControlAllowOriginList'),
            originRegex,
            expose: l('accessControlExposeHeaders'),
            maxAge: o.has('accessControlMaxAge') ? int(o.get('accessControlMaxAge'), 'headers.accessControlMaxAge', 0) : null,
            vary: b('addVaryHeader'),
          }
        : null,
      allowedHosts: l('allowedHosts').map((h) => h.toLowerCase()),
      hostsProxyHeaders: l('hostsProxyHeaders').map((h) => h.toLowerCase()),
      sslProxyHeaders: o.has('sslProxyHeaders') ? headerMap(o.get('sslProxyHeaders'), 'headers.sslProxyHeaders') : [],
      secure,
      sts,
      forceSTS: b('forceSTSHeader'),
      isDevelopment: b('isDevelopment'),
    };
  },
  build(opts) {
    const cors = opts.cors;
    const originRegex = cors?.originRegex.map((r) => compileGoRegexp(r)) ?? [];
    const matchOrigin = (origin: string): string | null => {
      if (cors === null || origin === '') return null;
      for (const item of cors.origins) {
        if (item === origin) return item;
        // A wildcard cannot be sent with credentials: the origin is echoed instead.
        if (item === '*') return cors.credentials ? origin : '*';
      }
      return originRegex.some((re) => re.test(origin)) ? origin : null;
    };
    const exposeValue = cors !== null && cors.expose.length > 0 && !(cors.expose.includes('*') && cors.credentials) ? cors.expose.join(',') : null;
    // Response edits that do not depend on the request: built once.
    const customResponse: ResponseEdit | null =
      opts.response.length === 0
        ? null
        : (h) => {
            for (const [name, value] of opts.response) {
              if (value === '') removeHeader(h, name);
              else setHeader(h, name, value);
            }
          };
    const secureEdit: ResponseEdit | null =
      opts.secure.length === 0
        ? null
        : (h) => {
            for (const [name, value] of opts.secure) setHeader(h, name, value);
          };
    const stsEdit: ResponseEdit | null = opts.sts === null ? null : (h) => setHeader(h, 'Strict-Transport-Security', opts.sts!);
    const badHost: Answer = { status: 400, headers: [], body: 'Bad Host' };
    const readsHeaders = cors !== null || (opts.allowedHosts.length > 0 && !opts.isDevelopment) || (opts.sts !== null && opts.sslProxyHeaders.length > 0);
    return {
      request(req: ForwardedRequest): Answer | null {
        // Built by the view on first use: only the options that read request headers pay for it.
        const hdrs = readsHeaders ? req.view.headers : NO_HEADERS;
        if (opts.allowedHosts.length > 0 && !opts.isDevelopment) {
          let host = req.view.host;
          for (const h of opts.hostsProxyHeaders) if (hdrs[h]) host = hdrs[h]!.toLowerCase();
          if (!opts.allowedHosts.includes(host)) return badHost;
        }
        if (cors !== null) {
          const origin = hdrs.origin ?? '';
          const acMethod = hdrs['access-control-request-method'] ?? '';
          if (req.method === 'OPTIONS' && origin !== '' && acMethod !== '') {
            const out: [string, string][] = [];
            if (cors.credentials) out.push(['Access-Control-Allow-Credentials', 'true']);
            if (cors.allowHeaders.includes('*') && cors.credentials) {
              const asked = hdrs['access-control-request-headers'];
              if (asked) out.push(['Access-Control-Allow-Headers', asked]);
            } else if (cors.allowHeaders.length > 0) out.push(['Access-Control-Allow-Headers', cors.allowHeaders.join(',')]);
            if (cors.allowMethods.includes('*') && cors.credentials) out.push(['Access-Control-Allow-Methods', acMethod]);
            else if (cors.allowMethods.length > 0) out.push(['Access-Control-Allow-Methods', cors.allowMethods.join(',')]);
            const match = matchOrigin(origin);
            if (match !== null) out.push(['Access-Control-Allow-Origin', match]);
            if (cors.maxAge !== null) out.push(['Access-Control-Max-Age', String(cors.maxAge)]);
            if (exposeValue !== null) out.push(['Access-Control-Expose-Headers', exposeValue]);
            return { status: 200, headers: out, body: '' };
          }
        }
        for (const [name, value] of opts.request) {
          const lower = name.toLowerCase();
          if (lower === 'host') req.hostHeader = value === '' ? req.hostHeader : value;
          else req.lines = value === '' ? removeLine(req.lines, lower) : setLine(req.lines, lower, value);
        }
        const edits = (req.responseEdits ??= []);
        if (customResponse !== null) edits.push(customResponse);
        if (cors !== null) {
          const match = matchOrigin(hdrs.origin ?? '');
          edits.push((h) => {
            if (match !== null) setHeader(h, 'Access-Control-Allow-Origin', match);
            if (cors.credentials) setHeader(h, 'Access-Control-Allow-Credentials', 'true');
            if (exposeValue !== null) setHeader(h, 'Access-Control-Expose-Headers', exposeValue);
            if (cors.vary) {
              const vary = getHeader(h, 'Vary') ?? '';
              if (vary !== 'Origin') setHeader(h, 'Vary', vary === '' ? 'Origin' : `${vary},Origin`);
            }
          });
        }
        if (secureEdit !== null) edits.push(secureEdit);
        if (stsEdit !== null && !opts.isDevelopment) {
          const https = req.tls || opts.sslProxyHeaders.some(([k, v]) => hdrs[k.toLowerCase()] === v);
          if (https || opts.forceSTS) edits.push(stsEdit);
        }
        return null;
      },
    };
  },
};
