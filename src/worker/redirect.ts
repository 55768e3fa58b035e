// Entry-point redirections (--entrypoints.web.http.redirections.entryPoint.*)
// and ACME HTTP-01 answers: both are decided before routing.
import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from 'uWebSockets.js';

export interface RedirectTarget {
  scheme: string;
  /** The target entry point's port; left out of Location when it is the scheme's default. */
  port: number;
  permanent: boolean;
  /** Routers with a higher priority are served instead. */
  priority: number;
}

export const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443 };

/** Traefik's codes: permanent 301 for GET and HEAD, else 308; temporary 302, else 307. */
export function redirectStatus(target: RedirectTarget, method: string): number {
  const simple = method === 'GET' || method === 'HEAD';
  if (target.permanent) return simple ? 301 : 308;
  return simple ? 302 : 307;
}

/** The Location for a request to `hostHeader` with `target` (path and query) as sent. */
export function redirectLocation(target: RedirectTarget, hostHeader: string, pathAndQuery: string): string {
  let host = hostHeader;
  if (host.startsWith('[')) host = host.slice(0, host.indexOf(']') + 1);
  else {
    const colon = host.lastIndexOf(':');
    if (colon >= 0) host = host.slice(0, colon);
  }
  const port = DEFAULT_PORTS[target.scheme] === target.port ? '' : `:${target.port}`;
  return `${target.scheme}://${host}${port}${pathAndQuery}`;
}

export function sendRedirect(res: HttpResponse, status: number, location: string, close: boolean, head: boolean): void {
  res.cork(() => {
    res.writeStatus(`${status} ${STATUS_CODES[status]}`).writeHeader('location', location).writeHeader('content-type', 'text/plain; charset=utf-8');
    if (close) res.writeHeader('connection', 'close');
    const body = STATUS_CODES[status]!;
    // This uWS build aborts the process on endWithoutBody(length): the header is written by hand.
    if (head) res.writeHeader('content-length', String(body.length)).endWithoutBody();
    else res.end(body);
  });
}

export function sendChallenge(res: HttpResponse, keyAuthorization: string | undefined, close: boolean): void {
  res.cork(() => {
    res.writeStatus(keyAuthorization === undefined ? '404 Not Found' : '200 OK').writeHeader('content-type', 'text/plain; charset=utf-8');
    if (close) res.writeHeader('connection', 'close');
    res.end(keyAuthorization ?? '404 page not found\n');
  });
}
