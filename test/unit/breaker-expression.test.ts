// circuitBreaker expressions as oxy parses them: Traefik's documented
// examples, Go's precedence, every comparison, and what oxy refuses.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluate, parseBreakerExpression, type BreakerMetrics } from '../../src/middlewares/breaker-expression.js';
import { MiddlewareError } from '../../src/middlewares/types.js';

const CODES = 'ResponseCodeRatio(500, 600, 0, 600) > 0.25';
const LATENCY = 'LatencyAtQuantileMS(50.0) > 100';

function fixed(values: { net?: number; codes?: number; latency?: number; total?: number }): BreakerMetrics {
  return {
    networkErrorRatio: () => values.net ?? 0,
    responseCodeRatio: () => values.codes ?? 0,
    latencyAtQuantileMs: () => values.latency ?? 0,
    totalCount: () => values.total ?? 0,
  };
}

function refusal(src: string): string {
  try {
    parseBreakerExpression(src);
  } catch (err) {
    assert.ok(err instanceof MiddlewareError, String(err));
    return err.message;
  }
  return assert.fail(`${JSON.stringify(src)} was accepted`);
}

describe('circuitBreaker expressions', () => {
  test("Traefik's documented examples parse into JSON-safe trees", () => {
    assert.deepEqual(parseBreakerExpression(LATENCY), { metric: 'LatencyAtQuantileMS', args: [50], op: '>', value: 100 });
    assert.deepEqual(parseBreakerExpression('NetworkErrorRatio() > 0.30'), { metric: 'NetworkErrorRatio', args: [], op: '>', value: 0.3 });
    assert.deepEqual(parseBreakerExpression(CODES), { metric: 'ResponseCodeRatio', args: [500, 600, 0, 600], op: '>', value: 0.25 });
    const both = parseBreakerExpression('ResponseCodeRatio(500, 600, 0, 600) > 0.25 && RequestThreshold() >= 20');
    assert.deepEqual(both, { all: [{ metric: 'ResponseCodeRatio', args: [500, 600, 0, 600], op: '>', value: 0.25 }, { metric: 'RequestThreshold', args: [], op: '>=', value: 20 }] });
    const either = parseBreakerExpression('ResponseCodeRatio(500, 600, 0, 600) > 0.30 || NetworkErrorRatio() > 0.10');
    assert.deepEqual(JSON.parse(JSON.stringify(either)), either);
    assert.equal(evaluate(either, fixed({ net: 0.2 })), true);
    assert.equal(evaluate(either, fixed({ codes: 0.3 })), false, '0.30 is not above 0.30');
  });

  test("Go's precedence: && binds tighter than ||; parentheses group", () => {
    const a = 'NetworkErrorRatio() > 0.5';
    const b = 'RequestThreshold() > 10';
    const c = 'LatencyAtQuantileMS(99.0) >= 500';
    // a || (b && c): true with a alone.
    assert.equal(evaluate(parseBreakerExpression(`${a} || ${b} && ${c}`), fixed({ net: 1 })), true);
    // (a || b) && c: false without c.
    assert.equal(evaluate(parseBreakerExpression(`(${a} || ${b}) && ${c}`), fixed({ net: 1 })), false);
    assert.equal(evaluate(parseBreakerExpression(`(${a} || ${b}) && ${c}`), fixed({ net: 1, latency: 500 })), true);
    assert.equal(evaluate(parseBreakerExpression(`((NetworkErrorRatio())) > (0.5)`), fixed({ net: 0.6 })), true);
  });

  test('every comparison oxy supports, on the value measured', () => {
    const at = (op: string, latency: number) => evaluate(parseBreakerExpression(`LatencyAtQuantileMS(50.0) ${op} 100`), fixed({ latency }));
    assert.deepEqual([99, 100, 101].map((v) => at('>', v)), [false, false, true]);
    assert.deepEqual([99, 100, 101].map((v) => at('>=', v)), [false, true, true]);
    assert.deepEqual([99, 100, 101].map((v) => at('<', v)), [true, false, false]);
    assert.deepEqual([99, 100, 101].map((v) => at('<=', v)), [true, true, false]);
    assert.deepEqual([99, 100, 101].map((v) => at('==', v)), [false, true, false]);
    assert.deepEqual([99, 100, 101].map((v) => at('!=', v)), [true, false, true]);
    assert.equal(evaluate(parseBreakerExpression('NetworkErrorRatio() >= .5'), fixed({ net: 0.5 })), true);
    assert.equal(evaluate(parseBreakerExpression('NetworkErrorRatio() < 5e-1'), fixed({ net: 0.4 })), true);
  });

  test('what oxy refuses is refused, with a readable reason', () => {
    assert.match(refusal(''), /empty/);
    assert.match(refusal('   '), /empty/);
    assert.match(refusal('NetworkErrorRatio()'), /must be compared with a number/);
    assert.match(refusal('NetworkErrorRatio() > 1'), /decimal number \(write 1\.0\)/);
    assert.match(refusal('RequestThreshold() > 1.5'), /RequestThreshold\(\) is compared with an integer/);
    assert.match(refusal('LatencyAtQuantileMS(50) > 100'), /LatencyAtQuantileMS takes a decimal number \(e\.g\. LatencyAtQuantileMS\(50\.0\) > 100\)/);
    assert.match(refusal('ResponseCodeRatio(500, 600) > 0.5'), /takes an integer, an integer, an integer, an integer/);
    assert.match(refusal('NetworkErrorRatio(1) > 0.5'), /takes no arguments/);
    assert.match(refusal('Latency() > 1'), /unknown function "Latency" at column 1/);
    assert.match(refusal('networkerrorratio() > 0.5'), /unknown function/);
    assert.match(refusal('NetworkErrorRatio > 0.5'), /expected "\("/);
    assert.match(refusal('0.5 < NetworkErrorRatio()'), /compares a metric/);
    assert.match(refusal('NetworkErrorRatio() > 0.5 > 0.2'), /compares a metric/);
    assert.match(refusal('NetworkErrorRatio() > RequestThreshold()'), /compared with a number/);
    assert.match(refusal('NetworkErrorRatio() > 0.5 &&'), /ends too early/);
    assert.match(refusal('NetworkErrorRatio() > 0.5 && 1'), /1 at column 30 is not a condition/);
    assert.match(refusal('(NetworkErrorRatio() > 0.5'), /expected "\)" at the end/);
    assert.match(refusal('NetworkErrorRatio() > 0.5)'), /unexpected "\)" at column 26/);
    assert.match(refusal('!(NetworkErrorRatio() > 0.5)'), /unexpected "!" at column 1/);
    assert.match(refusal('NetworkErrorRatio() > 0.5 & RequestThreshold() > 1'), /unexpected "&"/);
    assert.match(refusal('NetworkErrorRatio() > -0.5'), /unexpected "-"/);
    assert.match(refusal('NetworkErrorRatio() > 0.5 and RequestThreshold() > 1'), /unexpected "and"/);
    assert.match(refusal('NetworkErrorRatio() > 1e999'), /1e999 at column 23 is out of range/);
    assert.match(refusal('RequestThreshold() > 99999999999999999999'), /out of range/);
  });
});

