// errors: when the server answers with a status in `status`, the client gets
// a page from another service instead (`query`, with {status},
// {originalStatus} and {url} filled in), under the original status or its
// rewrite (statusRewrites). The page is asked for with the request's headers,
// through the worker's pools, while the server's own body is read and dropped.
// If the page cannot be had, the client gets the status and its reason, as
// from Traefik.
import { STATUS_CODES } from 'node:http';
import { list, options, text } from './options.js';
import { sendWhole } from './buffering.js';
import { MiddlewareError, type BuildContext, type ForwardedRequest, type MiddlewareKind, type ParseContext, type ResponseFilter, type ResponseOut } from './types.js';
import { sideRequest } from '../upstream/side-request.js';

interface Options {
  /** Inclusive [from, to] status ranges. */
  ranges: [number, number][];
  service: string;
  query: string;
  /** [from, to, status]: matching original statuses are sent as `status`. */
  rewrites: [number, number, number][];
}

/** Without a configuration around it (unit tests): the service taken as named. */
const UNCHECKED: ParseContext = { qualify: (s) => s, serviceProblem: () => null };
const TIMEOUT_MS = 30_000;
const MAX_PAGE_BYTES = 4 * 1024 * 1024;

function range(s: string, at: string): [number, number] {
  const m = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/.exec(s);
  if (m === null) throw new MiddlewareError(`${at}: ${JSON.stringify(s)} is not a status or a range such as 500-599`);
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 100 || to > 599 || from > to) throw new MiddlewareError(`${at}: ${JSON.stringify(s)} is not a range of statuses between 100 and 599`);
  return [from, to];
}

/** The page for one response: held until the page arrives (or fails), whatever the server still sends dropped. */
class ErrorPage implements ResponseFilter {
  private gone = false;

  constructor(
    out: ResponseOut,
    page: Promise<{ status: number; headers: string[]; body: Buffer } | null>,
    original: number,
    sent: number,
  ) {
    page.then(
      (p) => {
        if (this.gone) return;
        if (p === null) sendWhole(out, sent, ['content-type', 'text/plain; charset=utf-8'], Buffer.from(STATUS_CODES[original] ?? String(original)));
        else sendWhole(out, sent, p.headers, p.body);
      },
      () => {},
    );
  }

  head(): void {}

  data(): boolean {
    return true;
  }

  end(): void {}

  onDrain(fn: () => void): void {
    fn();
  }

  destroy(): void {
    this.gone = true;
  }
}

function fetchPage(ctx: BuildContext, o: Options, req: { lines: string; host: string; url: string }, status: number) {
  const server = ctx.server(o.service);
  if (server === null) return Promise.resolve(null);
  const path = o.query.replaceAll('{status}', String(status)).replaceAll('{originalStatus}', String(status)).replaceAll('{url}', encodeURIComponent(req.url));
  const host = server.passHostHeader && req.host !== '' ? req.host : server.authority;
  const head = `GET ${path.startsWith('/') ? path : `/${path}`} HTTP/1.1\r\nhost: ${host}\r\n${req.lines}\r\n`;
  return sideRequest(server.pool, head, { timeoutMs: TIMEOUT_MS, maxBodyBytes: MAX_PAGE_BYTES }).then(
    (r) => r,
    () => null,
  );
}

export const errors: MiddlewareKind<Options> = {
  name: 'errors',
  parse(raw, at = UNCHECKED) {
    const o = options(raw, 'errors', ['status', 'service', 'query', 'statusRewrites']);
    if (!o.has('status')) throw new MiddlewareError('errors needs status (e.g. 500-599)');
    if (!o.has('service')) throw new MiddlewareError('errors needs service (the one serving the pages)');
    const ranges = list(o.get('status'), 'errors.status').map((s) => range(s, 'errors.status'));
    const service = at.qualify(text(o.get('service'), 'errors.service').trim());
    const problem = at.serviceProblem(service);
    if (problem !== null) throw new MiddlewareError(`errors.service: ${problem}`);
    const query = o.has('query') ? text(o.get('query'), 'errors.query').trim() : '/';
    if (/[\s\0]/.test(query)) throw new MiddlewareError('errors.query must be a path without spaces or control characters');
    const rewrites: [number, number, number][] = [];
    if (o.has('statusRewrites')) {
      const map = o.get('statusRewrites');
      if (map === null || typeof map !== 'object' || Array.isArray(map)) throw new MiddlewareError('errors.statusRewrites must map statuses or ranges to a status');
      for (const [k, v] of Object.entries(map as Record<string, unknown>)) {
        const [from, to] = range(k, 'errors.statusRewrites');
        const target = Number(v);
        if (!Number.isInteger(target) || target < 100 || target > 599) throw new MiddlewareError(`errors.statusRewrites.${k} must be a status, got ${JSON.stringify(v)}`);
        rewrites.push([from, to, target]);
      }
    }
    return { ranges, service, query, rewrites };
  },
  build(o, ctx) {
    const matches = (s: number) => o.ranges.some(([a, b]) => s >= a && s <= b);
    const rewrite = (s: number) => o.rewrites.find(([a, b]) => s >= a && s <= b)?.[2] ?? s;
    return {
      request(req: ForwardedRequest) {
        // What the page request needs, read now: the view is gone once the handler returns.
        const page = { lines: req.lines, host: req.hostHeader, url: req.query === '' ? req.path : `${req.path}?${req.query}` };
        (req.responseFilters ??= []).push((status) => {
          if (!matches(status)) return null;
          const fetched = fetchPage(ctx, o, page, status);
          return (out) => new ErrorPage(out, fetched, status, rewrite(status));
        });
        return null;
      },
    };
  },
};
