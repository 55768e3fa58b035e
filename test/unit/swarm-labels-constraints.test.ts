import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileConstraints, ConstraintsError } from '../../src/providers/swarm/constraints.js';

const labels = { 'traefik.tier': 'public', 'com.example.team': 'shop', empty: '' };

function match(expr: string, l: Record<string, string> = labels): boolean {
  return compileConstraints(expr)(l);
}

describe('compileConstraints', () => {
  test('Label: exact name and value, case-sensitive; a missing label is ""', () => {
    assert.equal(match('Label(`traefik.tier`, `public`)'), true);
    assert.equal(match('Label(`traefik.tier`, `Public`)'), false);
    assert.equal(match('Label(`Traefik.Tier`, `public`)'), false);
    assert.equal(match('Label(`traefik.tier`, `pub`)'), false);
    assert.equal(match('Label(`missing`, ``)'), true);
    assert.equal(match('Label(`missing`, `x`)'), false);
    assert.equal(match('Label("traefik.tier", "public")'), true, 'double-quoted Go strings');
    assert.equal(match('Label(`a`, `b`,)', { a: 'b' }), true, 'Go accepts a trailing comma');
  });

  test('LabelRegex: Go regexp, unanchored like regexp.MatchString', () => {
    assert.equal(match('LabelRegex(`traefik.tier`, `ubl`)'), true);
    assert.equal(match('LabelRegex(`traefik.tier`, `^ubl`)'), false);
    assert.equal(match('LabelRegex(`traefik.tier`, `^pub.*$`)'), true);
    assert.equal(match('LabelRegex(`traefik.tier`, `(?i)^PUBLIC$`)'), true);
    assert.equal(match('LabelRegex("com.example.team", "s\\\\w+")'), true);
    assert.equal(match('LabelRegex(`com.example.team`, `\\Ashop\\z`)'), true);
    assert.equal(match('LabelRegex(`missing`, `^$`)'), true);
    assert.equal(match('LabelRegex(`missing`, `.+`)'), false);
  });

  test('!, &&, || with Go precedence, and parentheses', () => {
    assert.equal(match('!Label(`traefik.tier`, `public`)'), false);
    assert.equal(match('!!Label(`traefik.tier`, `public`)'), true);
    assert.equal(match('Label(`traefik.tier`, `public`) && Label(`com.example.team`, `shop`)'), true);
    assert.equal(match('Label(`traefik.tier`, `public`) && Label(`com.example.team`, `ops`)'), false);
    assert.equal(match('Label(`traefik.tier`, `x`) || Label(`com.example.team`, `shop`)'), true);
    assert.equal(match('Label(`traefik.tier`, `x`) || Label(`com.example.team`, `x`)'), false);
    // && binds tighter than ||: true || (false && false)
    assert.equal(match('Label(`traefik.tier`, `public`) || Label(`x`, `1`) && Label(`y`, `1`)'), true);
    assert.equal(match('(Label(`traefik.tier`, `public`) || Label(`x`, `1`)) && Label(`y`, `1`)'), false);
    assert.equal(match('!(Label(`traefik.tier`, `x`) || LabelRegex(`com.example.team`, `^o`))'), true);
  });

  test('an empty expression matches everything', () => {
    assert.equal(match(''), true);
    assert.equal(match('   '), true);
  });

  test('malformed expressions throw, saying what and where', () => {
    const cases: [string, RegExp][] = [
      ['Label(`a`', /expected ',' or '\)' but found end of expression at position 9/],
      ['Label(`a`)', /Label takes 2 arguments \(label name, value\), got 1 at position 0/],
      ['LabelRegex(`a`, `b`, `c`)', /LabelRegex takes 2 arguments \(label name, regexp\), got 3/],
      ['Tag(`a`)', /unknown function 'Tag' at position 0; expected Label or LabelRegex/],
      ['label(`a`, `b`)', /unknown function 'label' at position 0 \(names are case-sensitive\)/],
      ['LabelRegex(`a`, `(`)', /invalid regexp "\(" in LabelRegex at position 16/],
      ['LabelRegex(`a`, `(?=x)`)', /invalid regexp/],
      ['Label(`a`, `b`) &&', /expected a Label or LabelRegex call, '\(' or '!' but found end of expression/],
      ['Label(`a`, `b`) & Label(`c`, `d`)', /did you mean '&&'/],
      ['Label(`a`, `b`) Label(`c`, `d`)', /unexpected 'Label' after the end of the expression/],
      ["Label('a', 'b')", /single-quoted values are not supported/],
      ['Label(`a`, `b`', /expected ',' or '\)'/],
      ['(Label(`a`, `b`)', /expected '\)'/],
    ];
    for (const [expr, re] of cases) {
      assert.throws(
        () => compileConstraints(expr),
        (err: unknown) => err instanceof ConstraintsError && err.message.startsWith(`invalid constraints expression ${JSON.stringify(expr)}: `) && re.test(err.message),
        expr,
      );
    }
  });
});
