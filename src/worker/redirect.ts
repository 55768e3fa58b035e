// Entry-point redirections (--entrypoints.web.http.redirections.entryPoint.*)
// and ACME HTTP-01 answers: both are decided before routing, and answered
// as middlewares' answers are (middlewares/pipeline.ts sendAnswer).
import { locationFor, redirectAnswer, redirectStatus as statusFor } from '../middlewares/redirect.js';
import type { Answer } from '../middlewares/types.js';

export interface RedirectTarget {
  scheme: string;
  /** The target entry point's port; left out of Location when it is the scheme's default. */
  port: number;
  permanent: boolean;
  /** Routers with a higher priority are served instead. */
  priority: number;
}

export const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/** Traefik's codes: permanent 301 for GET and HEAD, else 308; temporary 302, else 307. */
export function redirectStatus(target: RedirectTarget, method: string): number {
  return statusFor(target.permanent, method);
}

/** The Location for a request to `hostHeader` with `target` (path and query) as sent. */
export function redirectLocation(target: RedirectTarget, hostHeader: string, pathAndQuery: string): string {
  return locationFor(target.scheme, hostHeader, String(target.port), pathAndQuery);
}

export function entryPointRedirect(target: RedirectTarget, method: string, hostHeader: string, pathAndQuery: string): Answer {
  return redirectAnswer(target.permanent, method, redirectLocation(target, hostHeader, pathAndQuery));
}

/** The key authorization of a pending challenge, or 404 as Traefik answers an unknown token. */
export function challengeAnswer(keyAuthorization: string | undefined): Answer {
  return keyAuthorization === undefined ? { status: 404, headers: [], body: '404 page not found\n' } : { status: 200, headers: [], body: keyAuthorization };
}
