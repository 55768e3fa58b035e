// rateLimit: a token bucket per source, as Traefik's (golang.org/x/time/rate):
// `average` requests per `period` refill a bucket of `burst`. A request that
// finds it empty waits for its token when that comes within 1/(2·rate) (500
// ms below 1 req/s), else gets 429 with Retry-After and X-Retry-In. The
// buckets live in the memory all workers share (shared-buckets.ts), keyed by
// the middleware's name: one limit for the instance, whichever worker serves,
// and for every router using the middleware (as Traefik with Redis does).
import { monotonicMs } from './shared-buckets.js';
import { durationMs, int, options } from './options.js';
import { parseSourceCriterion, sourceOf, type SourceCriterion } from './source-criterion.js';
import { MiddlewareError, type Answer, type ForwardedRequest, type MiddlewareKind } from './types.js';

interface Options {
  /** Requests per period; 0: no limit. */
  average: number;
  periodMs: number;
  burst: number;
  sourceCriterion: SourceCriterion;
}

/** Go's time.Duration.String() of `ns` nanoseconds ("50ms", "1.5s", "1m0.25s"). */
export function goDuration(ns: number): string {
  ns = Math.trunc(ns);
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  ns = Math.abs(ns);
  // The fraction of `v` at `digits` decimals, without trailing zeros: ".25", or '' when whole.
  const frac = (v: number, digits: number) => {
    const f = String(v % 10 ** digits).padStart(digits, '0').replace(/0+$/, '');
    return f === '' ? '' : `.${f}`;
  };
  if (ns < 1e3) return `${sign}${ns}ns`;
  if (ns < 1e6) return `${sign}${Math.floor(ns / 1e3)}${frac(ns, 3)}µs`;
  if (ns < 1e9) return `${sign}${Math.floor(ns / 1e6)}${frac(ns, 6)}ms`;
  const s = Math.floor(ns / 1e9);
  const h = Math.floor(s / 3600);
  const m = Math.floor(s / 60) % 60;
  const sec = `${s % 60}${frac(ns, 9)}s`;
  return sign + (h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec);
}

/** Traefik's answer to a request that would wait too long: when to come back, rounded up to the second. */
function tooMany(waitMs: number): Answer {
  const ns = Math.trunc(waitMs * 1e6);
  return {
    status: 429,
    headers: [
      ['Retry-After', String(Math.ceil(ns / 1e9))],
      ['X-Retry-In', goDuration(ns)],
    ],
    body: 'Too Many Requests',
  };
}

const after = (ms: number) => new Promise<null>((resolve) => setTimeout(resolve, Math.ceil(ms), null));

export const rateLimit: MiddlewareKind<Options> = {
  name: 'rateLimit',
  parse(raw) {
    const o = options(raw, 'rateLimit', ['average', 'period', 'burst', 'sourceCriterion', 'redis']);
    if (o.has('redis')) throw new MiddlewareError('rateLimit.redis is not supported by portero (its limits already hold across its workers, not across instances)');
    const periodMs = o.has('period') ? durationMs(o.get('period'), 'rateLimit.period') : 0;
    return {
      average: o.has('average') ? int(o.get('average'), 'rateLimit.average', 0) : 0,
      // Traefik: a period of 0 is a second, a burst below 1 is 1.
      periodMs: periodMs === 0 ? 1000 : periodMs,
      burst: Math.max(1, o.has('burst') ? int(o.get('burst'), 'rateLimit.burst', 0) : 1),
      sourceCriterion: parseSourceCriterion(o.get('sourceCriterion'), 'rateLimit.sourceCriterion', 'ip'),
    };
  },
  build({ average, periodMs, burst, sourceCriterion }, ctx, name = '') {
    // Traefik's rate.Inf: no stage, nothing paid.
    if (average === 0) return {};
    const perSecond = (average * 1000) / periodMs;
    // As Traefik computes it: time.Second / (time.Duration(rate) * 2), in whole ns.
    const maxDelayMs = perSecond < 1 ? 500 : Math.floor(1e9 / (Math.trunc(perSecond) * 2)) / 1e6;
    const intervalMs = periodMs / average;
    const buckets = ctx.memory.buckets;
    const hash = buckets.hasher('rateLimit', name);
    const source = sourceOf(sourceCriterion);
    return {
      request(req: ForwardedRequest) {
        const wait = buckets.take(hash.hash(source(req)), intervalMs, burst, maxDelayMs, monotonicMs());
        if (wait === 0) return null;
        return wait > 0 ? after(wait) : tooMany(-wait);
      },
    };
  },
};
