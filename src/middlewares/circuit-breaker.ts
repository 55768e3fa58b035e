// circuitBreaker, as oxy's cbreaker that Traefik uses. Standby: requests pass
// and their outcomes are counted; at most every checkPeriod the expression is
// evaluated, and when it holds the breaker trips: for fallbackDuration it
// answers responseCode itself. Then it recovers: over recoveryDuration a
// linearly growing share of requests passes (oxy's ratio controller: half of
// them over the whole recovery), and the expression holding again trips it
// anew; past recoveryDuration it is back in standby. Only what happens after
// it in the chain counts (Traefik's documentation): the answers of later
// stages, the service's, and failures.
//
// The state is per router and per worker thread, as each Traefik instance
// keeps its own; a router rebuilt (its configuration changed) starts afresh.
import { STATUS_CODES } from 'node:http';
import { evaluate, parseBreakerExpression, readsLatency, type BreakerExpr } from './breaker-expression.js';
import { RollingMetrics } from './breaker-metrics.js';
import { durationMs, int, options, text } from './options.js';
import { MiddlewareError, type Answer, type ForwardedRequest, type MiddlewareKind, type RequestOutcome } from './types.js';

export interface BreakerOptions {
  expression: BreakerExpr;
  checkPeriodMs: number;
  fallbackMs: number;
  recoveryMs: number;
  responseCode: number;
}

const DEFAULTS = { checkPeriodMs: 100, fallbackMs: 10_000, recoveryMs: 10_000 };

/** Traefik's status for a client that left before the answer (it counts among the responses). */
const CLIENT_CLOSED = 499;

type State = 'standby' | 'tripped' | 'recovering';

export class Breaker {
  state: State = 'standby';
  private readonly metrics: RollingMetrics;
  /** End of the fallback (tripped) or of the recovery (recovering). */
  private until = 0;
  /** The expression is evaluated again once now passes this. */
  private checkAfter = -Infinity;
  private recoveringSince = 0;
  private allowed = 0;
  private denied = 0;

  /** `now` in ms, monotonic. */
  constructor(
    private readonly o: Omit<BreakerOptions, 'responseCode'>,
    private readonly now: () => number,
  ) {
    this.metrics = new RollingMetrics(now, readsLatency(o.expression));
  }

  /** Whether this request gets the fallback answer instead of going on. */
  blocks(): boolean {
    if (this.state === 'standby') return false;
    const now = this.now();
    if (this.state === 'tripped') {
      if (now < this.until) return true;
      this.state = 'recovering';
      this.until = now + this.o.recoveryMs;
      this.recoveringSince = now;
      this.allowed = 0;
      this.denied = 0;
    }
    if (now > this.until) {
      this.state = 'standby';
      return false;
    }
    return !this.allowOne(now);
  }

  /** oxy's ratio controller: lets this request through if that keeps the share let through under its target. */
  private allowOne(now: number): boolean {
    const target = (0.5 * (now - this.recoveringSince)) / this.o.recoveryMs;
    if ((this.allowed + 1) / (this.allowed + 1 + this.denied) < target) {
      this.allowed++;
      return true;
    }
    this.denied++;
    return false;
  }

  /** Counts how a request that went past the breaker ended, then checks the expression if it is time to. */
  record(o: RequestOutcome): void {
    const forwarded = o.originMs >= 0;
    // No server answered a forwarded request: refused, reset, timed out (portero's 502/504).
    const networkError = forwarded && o.originStatus === 0 && o.status >= 500;
    this.metrics.record(o.status === 0 ? CLIENT_CLOSED : o.status, networkError, forwarded ? o.originMs : 0);
    const now = this.now();
    if (now <= this.checkAfter) return;
    this.checkAfter = now + this.o.checkPeriodMs;
    if (this.state === 'tripped' || !evaluate(this.o.expression, this.metrics)) return;
    this.state = 'tripped';
    this.until = now + this.o.fallbackMs;
    this.metrics.reset();
  }
}

/** A positive duration, or Traefik's default (it applies an option only when it is above 0). */
function positiveMs(o: Map<string, unknown>, key: string, fallback: number): number {
  if (!o.has(key)) return fallback;
  const ms = durationMs(o.get(key), `circuitBreaker.${key}`);
  return ms > 0 ? ms : fallback;
}

function parse(raw: unknown): BreakerOptions {
  const o = options(raw, 'circuitBreaker', ['expression', 'checkPeriod', 'fallbackDuration', 'recoveryDuration', 'responseCode']);
  if (!o.has('expression')) throw new MiddlewareError('circuitBreaker.expression is required, e.g. NetworkErrorRatio() > 0.5');
  const source = text(o.get('expression'), 'circuitBreaker.expression');
  let expression: BreakerExpr;
  try {
    expression = parseBreakerExpression(source);
  } catch (err) {
    if (!(err instanceof MiddlewareError)) throw err;
    throw new MiddlewareError(`circuitBreaker.expression ${JSON.stringify(source)}: ${err.message}`);
  }
  const responseCode = o.has('responseCode') ? int(o.get('responseCode'), 'circuitBreaker.responseCode', 200) : 503;
  if (responseCode > 999) throw new MiddlewareError(`circuitBreaker.responseCode must be a status code (200 to 999), got ${responseCode}`);
  return {
    expression,
    checkPeriodMs: positiveMs(o, 'checkPeriod', DEFAULTS.checkPeriodMs),
    fallbackMs: positiveMs(o, 'fallbackDuration', DEFAULTS.fallbackMs),
    recoveryMs: positiveMs(o, 'recoveryDuration', DEFAULTS.recoveryMs),
    responseCode,
  };
}

/** A router's breaker as a request stage; `now` in ms, monotonic. */
export function breakerStage(o: BreakerOptions, now: () => number): (req: ForwardedRequest) => Answer | null {
  const breaker = new Breaker(o, now);
  // Traefik writes the status text as the body (text/plain, as Go sniffs it).
  const fallback: Answer = { status: o.responseCode, headers: [], body: STATUS_CODES[o.responseCode] ?? '' };
  const ended = (outcome: RequestOutcome) => breaker.record(outcome);
  return (req) => {
    if (breaker.blocks()) return fallback;
    (req.ended ??= []).push(ended);
    return null;
  };
}

export const circuitBreaker: MiddlewareKind<BreakerOptions> = {
  name: 'circuitBreaker',
  parse,
  build: (o) => ({ request: breakerStage(o, () => performance.now()) }),
};
