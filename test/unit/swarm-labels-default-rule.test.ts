import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileDefaultRule, DefaultRuleError, normalize, serviceName } from '../../src/providers/swarm/default-rule.js';

const svc = (name: string, labels: Record<string, string> = {}) => ({ name, labels });

describe("Traefik's normalize", () => {
  test('runs of non-letters/digits become one "-", leading and trailing ones vanish', () => {
    assert.equal(normalize('whoami_whoami'), 'whoami-whoami');
    assert.equal(normalize('/my_app..v2/'), 'my-app-v2');
    assert.equal(normalize('a--b'), 'a-b');
    assert.equal(normalize('Web.App'), 'Web-App', 'case is kept');
    assert.equal(normalize('café_Ünï'), 'café-Ünï', 'Unicode letters');
    assert.equal(normalize('v١٢_½'), 'v١٢-½', 'Unicode numbers (Nd and No)');
    assert.equal(normalize('x😀y'), 'x-y');
    assert.equal(normalize('___'), '');
    assert.equal(normalize(''), '');
  });

  test('the service name, or <service>_<project> with both Compose labels', () => {
    assert.equal(serviceName(svc('stack_web')), 'stack-web');
    assert.equal(serviceName(svc('x', { 'com.docker.compose.project': 'proj', 'com.docker.compose.service': 'web' })), 'web-proj');
    assert.equal(serviceName(svc('x_y', { 'com.docker.compose.project': 'proj' })), 'x-y');
  });
});

describe('compileDefaultRule', () => {
  const labels = { 'com.example.domain': 'example.org', team: 'shop' };
  const render = (tpl: string, name = 'shop_web') => compileDefaultRule(tpl)(svc(name, labels));

  test("Traefik's default and the forms its documentation uses", () => {
    assert.equal(render('Host(`{{ normalize .Name }}`)'), 'Host(`shop-web`)');
    assert.equal(render('Host(`{{ .Name }}`)'), 'Host(`shop-web`)', '.Name is already normalized, as in Traefik');
    assert.equal(render('Host(`{{ .Name }}.{{ index .Labels "com.example.domain" }}`)'), 'Host(`shop-web.example.org`)');
    assert.equal(render('Host(`{{ .Labels.team }}.local`)'), 'Host(`shop.local`)');
    assert.equal(render('Host(`{{ index .Labels `team` }}`)'), 'Host(`shop`)', 'raw string key');
    assert.equal(render('PathPrefix(`/`)'), 'PathPrefix(`/`)', 'literal text only');
  });

  test('missing labels are empty, as a Go map gives', () => {
    assert.equal(render('Host(`a{{ index .Labels "nope" }}`)'), 'Host(`a`)');
    assert.equal(render('Host(`a{{ .Labels.nope }}`)'), 'Host(`a`)');
  });

  test('parentheses, pipes, trim markers and comments', () => {
    assert.equal(render('Host(`{{ normalize (index .Labels "com.example.domain") }}`)'), 'Host(`example-org`)');
    assert.equal(render('Host(`{{ index .Labels "com.example.domain" | normalize }}`)'), 'Host(`example-org`)');
    assert.equal(render('Host(`{{ .Name | normalize }}`)', 'a.b'), 'Host(`a-b`)');
    assert.equal(render('Host(`x  {{- .Name -}}  y`)'), 'Host(`xshop-weby`)');
    assert.equal(render('Host(`{{/* a comment */}}{{.Name}}`)'), 'Host(`shop-web`)');
    assert.equal(render('Host(`{{ "lit\\x41" }}`)'), 'Host(`litA`)', 'Go escapes in strings');
  });

  test('templates outside the supported subset are rejected when compiled', () => {
    const cases: [string, RegExp][] = [
      ['Host(`{{ lower .Name }}`)', /function "lower" is not supported by portero \(supported: normalize, index\)/],
      ['Host(`{{ .Foo }}`)', /unknown field \.Foo .*available: \.Name, \.ContainerName, \.Labels/],
      ['Host(`{{ .ContainerName.x }}`)', /unknown field \.ContainerName\.x/],
      ['Host(`{{ .Name `)', /unclosed action/],
      ['{{ if .Name }}x{{ end }}', /"if" is not supported/],
      ['{{ $x := .Name }}', /variables are not supported/],
      ['{{ . }}', /"\." alone/],
      ['{{ }}', /empty action/],
      ['{{ .Labels }}', /needs a string, got \.Labels/],
      ['{{ normalize .Name .Name }}', /normalize takes one argument, got 2/],
      ['{{ index .Name "a" }}', /index needs \.Labels/],
      ['{{ index .Labels }}', /index takes a map and one key/],
      ['{{ "unterminated }}', /unterminated string/],
      ['{{ (.Name }}', /expected "\)"/],
      ['{{ .Name .Name }}', /unexpected \.Name/],
      ['{{ .Name | .Name }}', /cannot pipe into \.Name/],
    ];
    for (const [tpl, re] of cases) {
      assert.throws(
        () => compileDefaultRule(tpl),
        (err: unknown) => err instanceof DefaultRuleError && err.message.startsWith(`default rule template ${JSON.stringify(tpl)}: `) && re.test(err.message),
        tpl,
      );
    }
  });
});
