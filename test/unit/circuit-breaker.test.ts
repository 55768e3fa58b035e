// circuitBreaker: the rolling metrics its expressions read, the standby →
// tripped → recovering → standby machine on a fake clock, its options and its
// request stage.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseBreakerExpression } from '../../src/middlewares/breaker-expression.js';
import { RollingMetrics } from '../../src/middlewares/breaker-metrics.js';
import { Breaker, breakerStage, circuitBreaker, type BreakerOptions } from '../../src/middlewares/circuit-breaker.js';
import { MiddlewareCompiler } from '../../src/middlewares/compile.js';
import type { ForwardedRequest, RequestOutcome } from '../../src/middlewares/types.js';

const NET = 'NetworkErrorRatio() > 0.5';
const CODES = 'ResponseCodeRatio(500, 600, 0, 600) > 0.25';
const LATENCY = 'LatencyAtQuantileMS(50.0) > 100';

/** A clock the test moves. */
function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('circuitBreaker metrics (rolling, as oxy memmetrics)', () => {
  test('counts cover the last 10 seconds, in 1 s slots', () => {
    const c = clock();
    const m = new RollingMetrics(c.now, false);
    m.record(200, false, 1);
    m.record(502, true, 1);
    assert.equal(m.totalCount(), 2);
    assert.equal(m.networkErrorRatio(), 0.5);
    c.advance(5000);
    m.record(200, false, 1);
    m.record(200, false, 1);
    assert.equal(m.networkErrorRatio(), 0.25);
    c.advance(5000);
    assert.equal(m.totalCount(), 2, 'the first second left the window');
    assert.equal(m.networkErrorRatio(), 0);
    c.advance(60_000);
    assert.equal(m.totalCount(), 0);
    assert.equal(m.networkErrorRatio(), 0, 'no requests: ratio 0');
  });

  test('ResponseCodeRatio: from inclusive, to exclusive; 0 when nothing is in the divisor', () => {
    const m = new RollingMetrics(clock().now, false);
    for (const code of [200, 200, 404, 499, 500, 503, 599, 600]) m.record(code, false, 1);
    assert.equal(m.responseCodeRatio(500, 600, 0, 600), 3 / 7);
    assert.equal(m.responseCodeRatio(400, 500, 200, 300), 1);
    assert.equal(m.responseCodeRatio(500, 501, 300, 400), 0);
    m.reset();
    assert.equal(m.responseCodeRatio(500, 600, 0, 600), 0);
    assert.equal(m.totalCount(), 0);
  });

  test('latency quantiles within 1% of the samples, whole ms, over a minute', () => {
    const c = clock();
    const m = new RollingMetrics(c.now, true);
    assert.equal(m.latencyAtQuantileMs(50), 0, 'empty: 0');
    for (let i = 1; i <= 1000; i++) m.record(200, false, i * 1.7);
    const near = (q: number, expected: number) => {
      const got = m.latencyAtQuantileMs(q);
      assert.ok(Math.abs(got - expected) <= expected * 0.01 + 1, `q${q}: ${got} ms, expected about ${expected}`);
    };
    near(50, 850);
    near(99, 1683);
    near(100, 1700);
    m.record(200, false, 10 * 3600 * 1000);
    assert.ok(m.latencyAtQuantileMs(100) >= 3600 * 1000 * 0.99, 'beyond an hour counts as an hour');
    c.advance(45_000);
    for (let i = 0; i < 3000; i++) m.record(200, false, 5);
    assert.equal(m.latencyAtQuantileMs(50), 5, 'recent fast requests are the majority');
    c.advance(20_000);
    assert.equal(m.latencyAtQuantileMs(99), 5, 'a minute later the slow ones are gone');
  });
});

function options(expression: string, extra: Partial<BreakerOptions> = {}): BreakerOptions {
  return { expression: parseBreakerExpression(expression), checkPeriodMs: 100, fallbackMs: 10_000, recoveryMs: 10_000, responseCode: 503, ...extra };
}

const OK: RequestOutcome = { status: 200, originStatus: 200, originMs: 3 };
const REFUSED: RequestOutcome = { status: 502, originStatus: 0, originMs: 1 };
const FAILED: RequestOutcome = { status: 500, originStatus: 500, originMs: 2 };

describe('circuitBreaker state machine', () => {
  test('trips on the first check that holds, answers for fallbackDuration, recovers gradually, then stands by', () => {
    const c = clock();
    const b = new Breaker(options(NET), c.now);
    assert.equal(b.blocks(), false);
    b.record(REFUSED);
    assert.equal(b.state, 'tripped');
    c.advance(9_999);
    assert.equal(b.blocks(), true);
    c.advance(2);
    // Recovering: oxy keeps the share let through so far at 0.5 × elapsed / recoveryDuration,
    // so the share of each moment grows linearly from none to nearly all.
    const passed: number[] = [];
    for (let tenth = 0; tenth < 10; tenth++) {
      let n = 0;
      for (let i = 0; i < 100; i++) {
        if (!b.blocks()) {
          n++;
          b.record(OK);
        }
        c.advance(10);
      }
      passed.push(n);
    }
    assert.equal(b.state, 'recovering');
    assert.ok(passed[0]! <= 5, `first second: ${passed[0]} of 100 passed`);
    assert.ok(passed[4]! >= 35 && passed[4]! <= 55, `middle second: ${passed[4]} of 100 passed`);
    assert.ok(passed[9]! >= 85, `last second: ${passed[9]} of 100 passed`);
    const total = passed.reduce((a, n) => a + n, 0);
    assert.ok(total >= 450 && total <= 550, `${total} of 1000 passed: half over the whole recovery`);
    assert.ok(passed.every((n, i) => i === 0 || n >= passed[i - 1]! - 2), `growing: ${passed.join(' ')}`);
    c.advance(10);
    assert.equal(b.blocks(), false);
    assert.equal(b.state, 'standby');
  });

  test('the expression holding again while recovering trips it anew', () => {
    const c = clock();
    const b = new Breaker(options(NET, { fallbackMs: 300, recoveryMs: 1000 }), c.now);
    b.record(REFUSED);
    c.advance(301);
    let through = 0;
    while (b.blocks()) {
      c.advance(10);
      through++;
      assert.ok(through < 200, 'a request passes while recovering');
    }
    assert.equal(b.state, 'recovering');
    b.record(REFUSED);
    assert.equal(b.state, 'tripped');
    assert.equal(b.blocks(), true);
  });

  test('evaluated at most once per checkPeriod; the counts start afresh when it trips', () => {
    const c = clock();
    const b = new Breaker(options(NET, { checkPeriodMs: 100, fallbackMs: 50, recoveryMs: 1000 }), c.now);
    b.record(OK);
    c.advance(50);
    b.record(REFUSED);
    b.record(REFUSED);
    assert.equal(b.state, 'standby', '2 of 3 failed within the check period: not evaluated yet');
    c.advance(51);
    b.record(REFUSED);
    assert.equal(b.state, 'tripped', 'evaluated: 3 of 4 failed');
    c.advance(51);
    while (b.blocks()) c.advance(10);
    c.advance(100);
    b.record(OK);
    assert.equal(b.state, 'recovering', 'one success after the reset: 0 of 1 failed (3 of 5 without the reset)');
  });

  test('only forwarded requests without a server answer are network errors; later stages and servers count as codes', () => {
    const c = clock();
    const net = new Breaker(options(NET), c.now);
    const codes = new Breaker(options(CODES), c.now);
    const later: RequestOutcome = { status: 503, originStatus: 0, originMs: -1 };
    for (const b of [net, codes]) {
      b.record(later);
      b.record(FAILED);
    }
    assert.equal(net.state, 'standby', "a later stage's 503 and a server's 500 are no network errors");
    assert.equal(codes.state, 'tripped');
  });

  test('RequestThreshold holds the breaker until enough requests are counted', () => {
    const c = clock();
    const b = new Breaker(options(`${NET} && RequestThreshold() >= 5`, { checkPeriodMs: 1 }), c.now);
    for (let i = 0; i < 4; i++) {
      b.record(REFUSED);
      c.advance(2);
    }
    assert.equal(b.state, 'standby');
    b.record(REFUSED);
    assert.equal(b.state, 'tripped');
  });
});

describe('circuitBreaker middleware', () => {
  const compile = (options: unknown) => new MiddlewareCompiler(new Map([['cb@file', { circuitBreaker: options }]]), (m) => m).router(['cb@file']);

  test("Traefik's defaults and option names in any case; label strings", () => {
    const d = compile({ expression: NET });
    assert.ok(Array.isArray(d), String(d));
    assert.deepEqual(d[0]!.options, { expression: parseBreakerExpression(NET), checkPeriodMs: 100, fallbackMs: 10_000, recoveryMs: 10_000, responseCode: 503 });
    const labels = compile({ expression: LATENCY, checkperiod: '1s', fallbackduration: '300ms', recoveryduration: '2', responsecode: '429' });
    assert.ok(Array.isArray(labels), String(labels));
    assert.deepEqual(labels[0]!.options, { expression: parseBreakerExpression(LATENCY), checkPeriodMs: 1000, fallbackMs: 300, recoveryMs: 2000, responseCode: 429 });
    const zero = compile({ expression: NET, fallbackDuration: 0 });
    assert.equal(Array.isArray(zero) && (zero[0]!.options as BreakerOptions).fallbackMs, 10_000, 'Traefik applies a duration only above 0');
  });

  test('bad options disable the router, naming the problem', () => {
    assert.equal(compile({}), 'middleware "cb@file": circuitBreaker.expression is required, e.g. NetworkErrorRatio() > 0.5');
    assert.equal(compile({ expression: 'NetworkErrorRatio() > 1' }), 'middleware "cb@file": circuitBreaker.expression "NetworkErrorRatio() > 1": NetworkErrorRatio() is compared with a decimal number (write 1.0), got 1 (e.g. NetworkErrorRatio() > 0.5)');
    assert.match(String(compile({ expression: NET, responseCode: 'x' })), /circuitBreaker.responseCode must be an integer/);
    assert.match(String(compile({ expression: NET, responseCode: 1000 })), /status code \(200 to 999\)/);
    assert.match(String(compile({ expression: NET, checkPeriod: 'soon' })), /circuitBreaker.checkPeriod must be a duration/);
    assert.match(String(compile({ expression: NET, fallback: '1s' })), /unknown option "fallback"/);
  });

  test('the stage listens to how requests end, and answers the status text while tripped', () => {
    const c = clock();
    const stage = breakerStage(options(NET, { responseCode: 429, fallbackMs: 300, recoveryMs: 100 }), c.now);
    const req = { ended: [() => {}] } as unknown as ForwardedRequest;
    assert.equal(stage(req), null);
    assert.equal(req.ended!.length, 2, 'its listener is added to those of earlier stages');
    req.ended![1]!(REFUSED);
    const blocked = { ended: null } as unknown as ForwardedRequest;
    assert.deepEqual(stage(blocked), { status: 429, headers: [], body: 'Too Many Requests' });
    assert.equal(blocked.ended, null, 'its own answers are not counted');
    c.advance(301);
    assert.notEqual(stage({ ended: null } as unknown as ForwardedRequest), null, 'recovery starts with the first request after the fallback: none passes yet');
    c.advance(101);
    assert.equal(stage({ ended: null } as unknown as ForwardedRequest), null, 'recovery over');
    assert.equal(circuitBreaker.name, 'circuitBreaker');
  });
});
