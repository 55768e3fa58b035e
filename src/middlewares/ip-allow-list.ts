// ipAllowList (v2's ipWhiteList): only clients in sourceRange get through,
// the others 403. The client is the connection's address, or with ipStrategy
// an entry of X-Forwarded-For as trusted at the entry point: `depth` counts
// from the right, `excludedIPs` skips known proxies from the right.
import { BlockList, isIP } from 'node:net';
import { int, list, options } from './options.js';
import { MiddlewareError, type Answer, type ForwardedRequest, type MiddlewareKind } from './types.js';

interface Options {
  sourceRange: string[];
  depth: number;
  excludedIPs: string[];
  rejectStatusCode: number;
}

function blockList(entries: readonly string[], at: string): BlockList {
  const b = new BlockList();
  for (const e of entries) {
    const [addr, bits, extra] = e.split('/');
    const family = isIP(addr ?? '');
    if (family === 0 || extra !== undefined) throw new MiddlewareError(`${at}: ${JSON.stringify(e)} is not an IP address or CIDR`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) b.addAddress(addr!, type);
    else {
      const n = Number(bits);
      if (!/^\d+$/.test(bits) || n > (family === 6 ? 128 : 32)) throw new MiddlewareError(`${at}: ${JSON.stringify(e)} has a bad prefix length`);
      b.addSubnet(addr!, n, type);
    }
  }
  return b;
}

function contains(b: BlockList, ip: string): boolean {
  const family = isIP(ip);
  if (family === 0) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped !== null) return b.check(mapped[1]!, 'ipv4');
  return b.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}

/** X-Forwarded-For as the entry point kept it (trusted sources only), without the client's own address portero appends. */
function forwardedFor(req: ForwardedRequest): string[] {
  const m = /(?:^|\n)x-forwarded-for: ([^\r]*)\r\n/.exec(req.lines);
  if (m === null) return [];
  const all = m[1]!.split(',').map((s) => s.trim());
  all.pop();
  return all.filter((s) => s !== '');
}

/** Client addresses whose verdict a worker keeps per middleware; a flood of new ones only empties it. */
const SEEN_MAX = 4096;

function parse(kind: string) {
  return (raw: unknown): Options => {
    const o = options(raw, kind, ['sourceRange', 'ipStrategy', 'rejectStatusCode']);
    const sourceRange = list(o.get('sourceRange') ?? [], `${kind}.sourceRange`);
    if (sourceRange.length === 0) throw new MiddlewareError(`${kind}.sourceRange must list at least one address or CIDR`);
    blockList(sourceRange, `${kind}.sourceRange`);
    let depth = 0;
    let excludedIPs: string[] = [];
    if (o.has('ipStrategy')) {
      const s = options(o.get('ipStrategy'), `${kind}.ipStrategy`, ['depth', 'excludedIPs', 'ipv6Subnet']);
      if (s.has('ipv6Subnet')) throw new MiddlewareError(`${kind}.ipStrategy.ipv6Subnet is not supported by portero`);
      if (s.has('depth')) depth = int(s.get('depth'), `${kind}.ipStrategy.depth`, 0);
      if (s.has('excludedIPs')) {
        excludedIPs = list(s.get('excludedIPs'), `${kind}.ipStrategy.excludedIPs`);
        blockList(excludedIPs, `${kind}.ipStrategy.excludedIPs`);
      }
    }
    const rejectStatusCode = o.has('rejectStatusCode') ? int(o.get('rejectStatusCode'), `${kind}.rejectStatusCode`, 100) : 403;
    return { sourceRange, depth, excludedIPs, rejectStatusCode };
  };
}

function build({ sourceRange, depth, excludedIPs, rejectStatusCode }: Options) {
  const allowed = blockList(sourceRange, 'sourceRange');
  const excluded = excludedIPs.length > 0 ? blockList(excludedIPs, 'excludedIPs') : null;
  const reject: Answer = { status: rejectStatusCode, headers: [], body: rejectStatusCode === 403 ? 'Forbidden' : '' };
  const seen = new Map<string, boolean>();
  return {
    request(req: ForwardedRequest): Answer | null {
      let ip = req.view.clientIp;
      if (depth > 0) {
        const xff = forwardedFor(req);
        ip = depth <= xff.length ? xff[xff.length - depth]! : '';
      } else if (excluded !== null) {
        const xff = forwardedFor(req);
        ip = '';
        for (let i = xff.length - 1; i >= 0; i--) {
          if (!contains(excluded, xff[i]!)) {
            ip = xff[i]!;
            break;
          }
        }
      }
      if (ip === '') return reject;
      // BlockList.check is a native call costing microseconds; clients repeat, so answers are kept (bounded).
      let ok = seen.get(ip);
      if (ok === undefined) {
        ok = contains(allowed, ip);
        if (seen.size >= SEEN_MAX) seen.clear();
        seen.set(ip, ok);
      }
      return ok ? null : reject;
    },
  };
}

export const ipAllowList: MiddlewareKind<Options> = { name: 'ipAllowList', aliases: ['ipWhiteList'], parse: parse('ipAllowList'), build };
