// redirectScheme and redirectRegex, with Traefik's codes: permanent 301 (GET,
// HEAD) or 308, temporary 302 or 307. A request already at its target passes.
import { compileGoRegexp } from '../rules/index.js';
import { jsReplacement } from './go-replacement.js';
import { bool, int, options, text } from './options.js';
import { MiddlewareError, type Answer, type ForwardedRequest, type MiddlewareKind } from './types.js';

function status(permanent: boolean, method: string): number {
  const simple = method === 'GET' || method === 'HEAD';
  return permanent ? (simple ? 301 : 308) : simple ? 302 : 307;
}

function redirect(permanent: boolean, req: ForwardedRequest, location: string): Answer {
  // A Location must stay one header line.
  if (/[\r\n\0]/.test(location)) return { status: 400, headers: [], body: 'Bad Request\n' };
  const code = status(permanent, req.method);
  return { status: code, headers: [['location', location]], body: code === 301 ? 'Moved Permanently' : code === 308 ? 'Permanent Redirect' : code === 302 ? 'Found' : 'Temporary Redirect' };
}

/** The host of a Host header without its port, brackets kept. */
function hostOnly(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

function portOf(host: string): string {
  const close = host.lastIndexOf(']');
  const colon = host.lastIndexOf(':');
  return colon > close ? host.slice(colon + 1) : '';
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
    const defaultPort = scheme === 'https' ? '443' : scheme === 'http' ? '80' : '';
    const portPart = port === '' || port === defaultPort ? '' : `:${port}`;
    return {
      request(req) {
        const current = req.tls ? 'https' : 'http';
        if (current === scheme && (port === '' || portOf(req.hostHeader) === port)) return null;
        return redirect(permanent, req, `${scheme}://${hostOnly(req.hostHeader)}${portPart}${target(req)}`);
      },
    };
  },
};


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
    return {
      request(req) {
        // Matched against the whole URL, as Traefik builds it.
        const url = `${req.tls ? 'https' : 'http'}://${req.hostHeader}${target(req)}`;
        if (!re.test(url)) return null;
        const location = url.replace(re, js);
        if (location === url) return null;
        return redirect(permanent, req, location);
      },
    };
  },
};
