// Main thread: what a router's middlewares mean for its table entry. Only
// the retry middleware is applied so far; a router using any other kind is
// disabled with an error naming it, rather than served without it (an auth
// or IP allow-list middleware silently skipped would be a hole).
import { parseDuration } from '../config/values.js';
import type { MiddlewareConfig } from '../dynamic/model.js';

/** Traefik's retry middleware: attempts in all, waits doubling from initialInterval. */
export interface RetrySpec {
  attempts: number;
  initialIntervalMs: number;
}

/** Traefik's default initialInterval. */
const DEFAULT_INITIAL_INTERVAL_MS = 100;

/** A middleware's kind: its one configured key, lower-cased ("" when there is none). */
export function middlewareKind(config: MiddlewareConfig): string {
  const keys = Object.keys(config);
  return keys.length === 1 ? keys[0].toLowerCase() : '';
}

/** The retry settings of a retry middleware, or the problem with them. */
export function retryOf(config: MiddlewareConfig): RetrySpec | string {
  const raw = Object.values(config)[0];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return 'retry must be a mapping (attempts, initialInterval)';
  let attempts: unknown;
  let interval: unknown;
  for (const [k, v] of Object.entries(raw)) {
    const key = k.toLowerCase();
    if (key === 'attempts') attempts = v;
    else if (key === 'initialinterval') interval = v;
    else return `retry: unknown key ${JSON.stringify(k)} (expected attempts, initialInterval)`;
  }
  const n = typeof attempts === 'string' && /^\s*\d+\s*$/.test(attempts) ? Number(attempts) : attempts;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) return `retry.attempts must be a positive integer, got ${JSON.stringify(attempts)}`;
  let initialIntervalMs = DEFAULT_INITIAL_INTERVAL_MS;
  if (interval !== undefined) {
    try {
      initialIntervalMs = parseDuration(interval, 'retry.initialInterval');
    } catch {
      return `retry.initialInterval must be a duration such as 100ms, got ${JSON.stringify(interval)}`;
    }
  }
  return { attempts: n, initialIntervalMs };
}

/**
 * A router's middlewares (qualified names) to what its entry needs, or the
 * error that disables the router.
 */
export function routerMiddlewares(names: readonly string[], configs: ReadonlyMap<string, MiddlewareConfig>): { retry: RetrySpec | null } | string {
  let retry: RetrySpec | null = null;
  const unknown = names.filter((m) => !configs.has(m));
  if (unknown.length > 0) return `unknown middleware(s) ${unknown.map((m) => JSON.stringify(m)).join(', ')}`;
  for (const name of names) {
    const config = configs.get(name)!;
    const kind = middlewareKind(config);
    if (kind !== 'retry') {
      return `middleware ${JSON.stringify(name)} (${kind || 'no kind'}) is not supported yet: the router is disabled rather than served without it`;
    }
    const r = retryOf(config);
    if (typeof r === 'string') return `middleware ${JSON.stringify(name)}: ${r}`;
    if (retry !== null) return `more than one retry middleware (${JSON.stringify(name)})`;
    retry = r;
  }
  return { retry };
}
