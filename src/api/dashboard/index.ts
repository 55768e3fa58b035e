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

const FILES: Record<string, { type: string; body: string }> = {
  '/dashboard/': { type: 'text/html; charset=utf-8', body: DASHBOARD_HTML },
  '/dashboard/index.html': { type: 'text/html; charset=utf-8', body: DASHBOARD_HTML },
  '/dashboard/dashboard.css': { type: 'text/css; charset=utf-8', body: DASHBOARD_CSS },
  '/dashboard/dashboard.js': { type: 'text/javascript; charset=utf-8', body: DASHBOARD_JS },
};

/** The dashboard's answer for `path`, or null if it is not a dashboard path. */
export function serveDashboard(path: string): ApiResponse | null {
  if (path === '/dashboard') return { status: 301, headers: { location: '/dashboard/' }, body: '' };
  if (!path.startsWith('/dashboard/')) return null;
  const file = FILES[path];
  if (file === undefined) return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '404 page not found\n' };
  return { status: 200, headers: { 'content-type': file.type, ...SECURITY }, body: file.body };
}
