// ipAllowList (v2's ipWhiteList): only clients in sourceRange get through,
// the others 403. The client is the connection's address, or with ipStrategy
// an entry of X-Forwarded-For as trusted at the entry point: `depth` counts
// from the right, `excludedIPs` skips known proxies from the right.
import { containsIp, parseNetwork, type Network } from '../rules/ip.js';
import { int, list, options } from './options.js';
import { MiddlewareError, type Answer, type ForwardedRequest, type MiddlewareKind } from './types.js';

/** Traefik's ipStrategy: which address is the client's (rateLimit and inFlightReq use it too). */
export interface IpStrategy {
  depth: number;
  excludedIPs: string[];
}

interface Options extends IpStrategy {
  sourceRange: string[];
  rejectStatusCode: number;
}

/** The networks of a list of IPs and CIDRs, with Go's semantics (as the ClientIP rule); throws naming a bad entry. */
function networks(entries: readonly string[], at: string): Network[] {
  return entries.map((e) => {
    const n = parseNetwork(e);
    if (n !== null) return n;
    const slash = e.indexOf('/');
    if (slash > 0 && parseNetwork(e.slice(0, slash)) !== null) throw new MiddlewareError(`${at}: ${JSON.stringify(e)} has a bad prefix length`);
    throw new MiddlewareError(`${at}: ${JSON.stringify(e)} is not an IP address or CIDR`);
  });
}

/** X-Forwarded-For as the entry point kept it (trusted sources only), without the client's own address portero appends. */
function forwardedFor(req: ForwardedRequest): string[] {
  const m = /(?:^|\n)x-forwarded-for: ([^\r]*)\r\n/.exec(req.lines);
  if (m === null) return [];
  const all = m[1]!.split(',').map((s) => s.trim());
  all.pop();
  return all.filter((s) => s !== '');
}

/** An `ipStrategy` mapping as configured at `at` ("rateLimit.sourceCriterion.ipStrategy"). */
export function parseIpStrategy(raw: unknown, at: string): IpStrategy {
  const s = options(raw, at, ['depth', 'excludedIPs', 'ipv6Subnet']);
  if (s.has('ipv6Subnet')) throw new MiddlewareError(`${at}.ipv6Subnet is not supported by portero`);
  const depth = s.has('depth') ? int(s.get('depth'), `${at}.depth`, 0) : 0;
  const excludedIPs = s.has('excludedIPs') ? list(s.get('excludedIPs'), `${at}.excludedIPs`) : [];
  networks(excludedIPs, `${at}.excludedIPs`);
  return { depth, excludedIPs };
}

/** Worker: the client's address by a strategy; '' when X-Forwarded-For has none to give. */
export function clientIpBy({ depth, excludedIPs }: IpStrategy): (req: ForwardedRequest) => string {
  if (depth > 0) {
    return (req) => {
      const xff = forwardedFor(req);
      return depth <= xff.length ? xff[xff.length - depth]! : '';
    };
  }
  if (excludedIPs.length === 0) return (req) => req.view.clientIp;
  const excluded = networks(excludedIPs, 'excludedIPs');
  return (req) => {
    const xff = forwardedFor(req);
    for (let i = xff.length - 1; i >= 0; i--) if (!containsIp(excluded, xff[i]!)) return xff[i]!;
    return '';
  };
}

function parse(kind: string) {
  return (raw: unknown): Options => {
    const o = options(raw, kind, ['sourceRange', 'ipStrategy', 'rejectStatusCode']);
    const sourceRange = list(o.get('sourceRange') ?? [], `${kind}.sourceRange`);
    if (sourceRange.length === 0) throw new MiddlewareError(`${kind}.sourceRange must list at least one address or CIDR`);
    networks(sourceRange, `${kind}.sourceRange`);
    const { depth, excludedIPs } = o.has('ipStrategy') ? parseIpStrategy(o.get('ipStrategy'), `${kind}.ipStrategy`) : { depth: 0, excludedIPs: [] };
    const rejectStatusCode = o.has('rejectStatusCode') ? int(o.get('rejectStatusCode'), `${kind}.rejectStatusCode`, 100) : 403;
    return { sourceRange, depth, excludedIPs, rejectStatusCode };
  };
}

function build({ sourceRange, depth, excludedIPs, rejectStatusCode }: Options) {
  const allowed = networks(sourceRange, 'sourceRange');
  const clientIp = clientIpBy({ depth, excludedIPs });
  const reject: Answer = { status: rejectStatusCode, headers: [], body: rejectStatusCode === 403 ? 'Forbidden' : '' };
  return {
    request(req: ForwardedRequest): Answer | null {
      const ip = clientIp(req);
      return ip !== '' && containsIp(allowed, ip) ? null : reject;
    },
  };
}

export const ipAllowList: MiddlewareKind<Options> = { name: 'ipAllowList', aliases: ['ipWhiteList'], parse: parse('ipAllowList'), build };
