// Serves the dashboard: /dashboard/ (the page), its stylesheet and script.
// Three constant strings, so nothing is read from disk and nothing is fetched
// from elsewhere.
import type { ApiResponse } from '../routes.js';
import { DASHBOARD_HTML } from './page.js';
import { DASHBOARD_JS } from './script.js';
import { DASHBOARD_CSS } from './style.js';

const SECURITY = {
  // Only portero's own files and API; no inline script, no third party.
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

// Keyed by the path the dashboard service sees, after dashboard_stripprefix@internal.
const FILES: Record<string, { type: string; body: string }> = {
  '/': { type: 'text/html; charset=utf-8', body: DASHBOARD_HTML },
  '/index.html': { type: 'text/html; charset=utf-8', body: DASHBOARD_HTML },
  '/dashboard.css': { type: 'text/css; charset=utf-8', body: DASHBOARD_CSS },
  '/dashboard.js': { type: 'text/javascript; charset=utf-8', body: DASHBOARD_JS },
};

/** dashboard@internal: one of its files, by the path left after /dashboard/; 404 for any other. */
export function dashboardFile(path: string): ApiResponse {
  const file = FILES[path];
  if (file === undefined) return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '404 page not found\n' };
  return { status: 200, headers: { 'content-type': file.type, ...SECURITY }, body: file.body };
}

/**
 * /dashboard without its slash: the page's relative links (dashboard.js,
 * ../api/) need the slash, so it is redirected where Traefik would serve the
 * page as is.
 */
export const DASHBOARD_NO_SLASH: ApiResponse = { status: 301, headers: { location: '/dashboard/' }, body: '' };

/** The dashboard's answer for a full path (/dashboard/...), or null if it is not a dashboard path. */
export function serveDashboard(path: string): ApiResponse | null {
  if (path === '/dashboard') return DASHBOARD_NO_SLASH;
  if (!path.startsWith('/dashboard/')) return null;
  return dashboardFile(path.slice('/dashboard'.length));
}
