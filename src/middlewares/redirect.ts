// redirectScheme and redirectRegex, with Traefik's codes: permanent 301 (GET,
// HEAD) or 308, temporary 302 or 307. A request already at its target passes.
import { STATUS_CODES } from 'node:http';
import { hostPort, hostWithoutPort } from '../rules/host.js';
import { compileGoRegexp } from '../rules/index.js';
import { jsReplacement } from './go-replacement.js';
import { bool, int, options, text } from './options.js';
import { MiddlewareError, type Answer, type ForwardedRequest, type MiddlewareKind } from './types.js';

/** Traefik's codes: permanent 301 for GET and HEAD, else 308; temporary 302, else 307. */
export function redirectStatus(permanent: boolean, method: string): number {
  const simple = method === 'GET' || method === 'HEAD';
  return permanent ? (simple ? 301 : 308) : simple ? 302 : 307;
}

/** A redirect to `location` (entry points and middlewares alike). */
export function redirectAnswer(permanent: boolean, method: string, location: string): Answer {
  // A Location must stay one header line.
  if (/[\r\n\0]/.test(location)) return { status: 400, headers: [], body: 'Bad Request\n' };
  const code = redirectStatus(permanent, method);
  return { status: code, headers: [['location', location]], body: STATUS_CODES[code]! };
}

const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443' };

/** scheme://host[:port]pathAndQuery for a request's Host header; the port is left out when "" or the scheme's default. */
export function locationFor(scheme: string, hostHeader: string, port: string, pathAndQuery: string): string {
  const portPart = port === '' || DEFAULT_PORTS[scheme] === port ? '' : `:${port}`;
  return `${scheme}://${hostWithoutPort(hostHeader)}${portPart}${pathAndQuery}`;
}

const target = (req: ForwardedRequest) => (req.query === '' ? req.path : `${req.path}?${req.query}`);

export const redirectScheme: MiddlewareKind<{ scheme: string; port: string; permanent: boolean }> = {
  name: 'redirectScheme',
  parse(raw) {
    const o = options(raw, 'redirectScheme', ['scheme', 'port', 'permanent']);
    const scheme = text(o.get('scheme'), 'redirectScheme.scheme').toLowerCase();
    if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) throw new MiddlewareError(`redirectScheme.scheme ${JSON.stringify(scheme)} is not a URL scheme`);
    const port = o.has('port') ? String(int(o.get('port'), 'redirectScheme.port', 1)) : '';
    return { scheme, port, permanent: o.has('permanent') ? bool(o.get('permanent'), 'redirectScheme.permanent') : false };
  },
  build({ scheme, port, permanent }) {
    return {
      request(req) {
        const current = req.tls ? 'https' : 'http';
        if (current === scheme && (port === '' || hostPort(req.hostHeader) === port)) return null;
        return redirectAnswer(permanent, req.method, locationFor(scheme, req.hostHeader, port, target(req)));
      },
    };
  },
};

/**
 * What a replacement fixes of the Location's destination, so that captured
 * request text cannot move it elsewhere: its literal authority
 * ("http://mydomain/${1}" and "http://mydomain${1}" fix "mydomain"; "/${1}"
 * fixes "this host"), or null when captures write the host themselves
 * ("https://${1}/", "http://${1}.example/", "http://www.${1}").
 */
function fixedDestination(replacement: string): { authority: string } | 'same-host' | null {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#$]*)(.?)/i.exec(replacement);
  if (m !== null) {
    if (m[2] === '' || (m[3] === '$' && m[2]!.endsWith('.'))) return null;
    try {
      // As URL normalizes it (case, the scheme's default port), to compare with the Location's.
      return { authority: new URL(`${m[1]}://${m[2]}/`).host };
    } catch {
      return null;
    }
  }
  return replacement.startsWith('/') && replacement[1] !== '/' && replacement[1] !== '\\' ? 'same-host' : null;
}

/** Whether `location` still goes where the replacement's literal text sends it (an open redirect otherwise). */
function staysAt(fixed: { authority: string } | 'same-host', location: string): boolean {
  if (fixed === 'same-host') return location.startsWith('/') && location[1] !== '/' && location[1] !== '\\';
  try {
    return new URL(location).host === fixed.authority && !/^[^:]+:\/\/[^/?#]*@/.test(location);
  } catch {
    return false;
  }
}

export const redirectRegex: MiddlewareKind<{ regex: string; replacement: string; permanent: boolean }> = {
  name: 'redirectRegex',
  parse(raw) {
    const o = options(raw, 'redirectRegex', ['regex', 'replacement', 'permanent']);
    const regex = text(o.get('regex'), 'redirectRegex.regex');
    compileGoRegexp(regex);
    return { regex, replacement: text(o.get('replacement'), 'redirectRegex.replacement'), permanent: o.has('permanent') ? bool(o.get('permanent'), 'redirectRegex.permanent') : false };
  },
  build({ regex, replacement, permanent }) {
    const re = compileGoRegexp(regex);
    const js = jsReplacement(replacement);
    const fixed = fixedDestination(replacement);
    return {
      request(req) {
        // Matched against the whole URL, as Traefik builds it.
        const url = `${req.tls ? 'https' : 'http'}://${req.hostHeader}${target(req)}`;
        if (!re.test(url)) return null;
        const location = url.replace(re, js);
        if (location === url) return null;
        // A request crafted so that its captured text moves the redirect to another host gets 400.
        if (fixed !== null && !staysAt(fixed, location)) return { status: 400, headers: [], body: 'Bad Request: the redirect would leave its destination\n' };
        return redirectAnswer(permanent, req.method, location);
      },
    };
  },
};
