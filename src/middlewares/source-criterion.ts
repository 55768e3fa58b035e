// Traefik's sourceCriterion: what makes requests "the same source" for
// rateLimit and inFlightReq. One of ipStrategy (the client's address, or one
// of X-Forwarded-For as ipAllowList picks it), requestHeaderName (that
// header's value, '' when absent, as Go's Header.Get) or requestHost (the
// Host header as forwarded, port included); none set: the kind's default.
import { lineValue } from './header-lines.js';
import { clientIpBy, parseIpStrategy, type IpStrategy } from './ip-allow-list.js';
import { bool, headerName, options, text } from './options.js';
import { MiddlewareError, type ForwardedRequest } from './types.js';

export type SourceCriterion = { by: 'ip'; ipStrategy: IpStrategy } | { by: 'header'; header: string } | { by: 'host' };

const CLIENT_IP: SourceCriterion = { by: 'ip', ipStrategy: { depth: 0, excludedIPs: [] } };
const HOST: SourceCriterion = { by: 'host' };

/** `raw` as configured at `at` ("rateLimit.sourceCriterion"); `fallback` when it names none. */
export function parseSourceCriterion(raw: unknown, at: string, fallback: 'ip' | 'host'): SourceCriterion {
  const o = options(raw, at, ['ipStrategy', 'requestHeaderName', 'requestHost']);
  const header = o.has('requestHeaderName') ? text(o.get('requestHeaderName'), `${at}.requestHeaderName`, true).trim() : '';
  const host = o.has('requestHost') ? bool(o.get('requestHost'), `${at}.requestHost`) : false;
  const ip = o.has('ipStrategy');
  // Traefik's own checks, in its order and words.
  if (ip && header !== '') throw new MiddlewareError(`${at}: ipStrategy and requestHeaderName are mutually exclusive`);
  if (ip && host) throw new MiddlewareError(`${at}: ipStrategy and requestHost are mutually exclusive`);
  if (header !== '' && host) throw new MiddlewareError(`${at}: requestHost and requestHeaderName are mutually exclusive`);
  if (ip) return { by: 'ip', ipStrategy: parseIpStrategy(o.get('ipStrategy'), `${at}.ipStrategy`) };
  if (header !== '') return { by: 'header', header: headerName(header, `${at}.requestHeaderName`).toLowerCase() };
  if (host) return HOST;
  return fallback === 'ip' ? CLIENT_IP : HOST;
}

/** Worker: the source of a request; the request as earlier middlewares left it, as in Traefik. */
export function sourceOf(c: SourceCriterion): (req: ForwardedRequest) => string {
  if (c.by === 'ip') return clientIpBy(c.ipStrategy);
  if (c.by === 'host') return (req) => req.hostHeader;
  const header = c.header;
  return (req) => lineValue(req.lines, header);
}
