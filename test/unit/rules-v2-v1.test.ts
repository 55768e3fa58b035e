// Traefik v2 rule syntax (ruleSyntax: v2) and v1 frontend.rule syntax.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RuleError, compileRule, type RequestView } from '../../src/rules/index.js';

type Syntax = 'v3' | 'v2' | 'v1';

function req(over: Partial<RequestView> = {}): RequestView {
  return { method: 'GET', host: 'example.com', path: '/', query: '', headers: {}, clientIp: '127.0.0.1', ...over };
}

function check(rule: string, syntax: Syntax, yes: Partial<RequestView>[], no: Partial<RequestView>[]): void {
  const { match } = compileRule(rule, syntax);
  for (const r of yes) assert.equal(match(req(r)), true, `${rule} should match ${JSON.stringify(r)}`);
  for (const r of no) assert.equal(match(req(r)), false, `${rule} should not match ${JSON.stringify(r)}`);
}

function rejects(rule: string, syntax: Syntax, message: string, position: number): void {
  assert.throws(
    () => compileRule(rule, syntax),
    (e: unknown) => {
      assert.ok(e instanceof RuleError, `expected RuleError, got ${String(e)}`);
      assert.ok(e.message.includes(message), `"${e.message}" should contain "${message}"`);
      assert.equal(e.position, position, `position of "${e.message}"`);
      return true;
    },
  );
}

// ---- v2 ----

test('v2 Host and HostHeader take several hosts (ORed) and pin them all', () => {
  check('Host(`a.com`, `B.com:8080`)', 'v2', [{ host: 'a.com' }, { host: 'b.com' }], [{ host: 'c.com' }]);
  check('HostHeader(`a.com`)', 'v2', [{ host: 'a.com' }], [{ host: 'b.com' }]);
  check('host(`a.com`)', 'v2', [{ host: 'a.com' }], []);
  // No wildcard in v2: `*` is an ordinary (never sent) host name.
  check('Host(`*.a.com`)', 'v2', [], [{ host: 'x.a.com' }]);
  assert.deepEqual(compileRule('Host(`a.com`, `B.com`, `a.com`)', 'v2').hosts, ['a.com', 'b.com']);
  assert.deepEqual(compileRule('Host(`*.a.com`)', 'v2').hosts, ['*.a.com']);
  rejects('Host(`a.com`, `🦭.com`)', 'v2', 'non-ASCII', 14);
});

test('v2 HostRegexp: mux templates, anchored, case-insensitive, ORed', () => {
  const rule = 'HostRegexp(`{subdomain:[a-z]+}.example.com`, `example.org`)';
  check(rule, 'v2', [{ host: 'www.example.com' }, { host: 'example.org' }], [
    { host: 'example.com' },
    { host: 'a.b.example.com' },
    { host: 'www.example.com.au' },
    { host: 'www.example.org' },
    { host: '1.example.com' },
  ]);
  check('HostRegexp(`{sub}.example.com`)', 'v2', [{ host: 'a-1.example.com' }], [{ host: 'a.b.example.com' }]);
  check('HostRegexp(`{sub:[A-Z]+}.EXAMPLE.com`)', 'v2', [{ host: 'www.example.com' }], []);
  check('HostRegexp(`example.com`)', 'v2', [{ host: 'example.com' }], [{ host: 'exampleXcom' }]);
  assert.equal(compileRule(rule, 'v2').hosts, null);
  rejects('HostRegexp(`{sub:[a-z]+.example.com`)', 'v2', 'unbalanced braces', 11);
  rejects('HostRegexp(`{:[a-z]+}.example.com`)', 'v2', 'missing name or pattern', 11);
  rejects('HostRegexp(`{sub:(}.example.com`)', 'v2', 'invalid regexp: missing closing )', 11);
});

test('v2 Path and PathPrefix: templates with {name} / {name:regexp}', () => {
  check('Path(`/articles/{cat:[a-z]+}/{id:[0-9]+}`)', 'v2', [{ path: '/articles/tech/42' }], [
    { path: '/articles/tech/42/' },
    { path: '/articles/Tech/42' },
    { path: '/articles/tech/x' },
  ]);
  check('Path(`/products/{key}`)', 'v2', [{ path: '/products/shoes' }], [{ path: '/products/a/b' }, { path: '/products/' }]);
  check('Path(`/a.b`, `/c`)', 'v2', [{ path: '/a.b' }, { path: '/c' }], [{ path: '/aXb' }, { path: '/c/' }]);
  check('PathPrefix(`/api`, `/v{n:[0-9]+}/`)', 'v2', [{ path: '/api' }, { path: '/apis' }, { path: '/v2/x' }], [
    { path: '/vx/x' },
    { path: '/ap' },
  ]);
  check('Path(`/{path:(?i:Products)}`)', 'v2', [{ path: '/products' }, { path: '/PRODUCTS' }], [{ path: '/product' }]);
  check('PathPrefix(`/foo bar`)', 'v2', [{ path: '/foo%20bar/x' }], []);
  rejects('Path(`css`)', 'v2', 'path must start with a slash', 5);
  rejects('PathPrefix(`/a`, `b`)', 'v2', 'path must start with a slash', 17);
});

test('v2 Method takes several methods', () => {
  check('Method(`get`, `POST`)', 'v2', [{ method: 'GET' }, { method: 'POST' }], [{ method: 'PUT' }, { method: 'post' }]);
});

test('v2 Headers and HeadersRegexp take key/value pairs, all required', () => {
  check('Headers(`X-A`, `1`, `x-b`, `2`)', 'v2', [{ headers: { 'x-a': '1', 'x-b': '2' } }, { headers: { 'x-a': '0, 1', 'x-b': '2' } }], [
    { headers: { 'x-a': '1' } },
    { headers: { 'x-a': '1', 'x-b': '3' } },
  ]);
  check('HeadersRegexp(`Content-Type`, `^application/(json|yaml)$`)', 'v2', [{ headers: { 'content-type': 'application/yaml' } }], [
    { headers: { 'content-type': 'text/yaml' } },
  ]);
  rejects('Headers(`X-A`, `1`, `X-B`)', 'v2', 'Headers expects key, value pairs, got an odd number of values (3)', 20);
  rejects('Headers(`X-A`)', 'v2', 'Headers expects at least 2 arguments, got 1', 13);
  rejects('HeadersRegexp(`X-A`, `(`)', 'v2', 'invalid regexp', 21);
});

test('v2 Query: key=value templates against the first value of the key', () => {
  check('Query(`mobile=true`)', 'v2', [{ query: 'mobile=true' }, { query: 'a=b&mobile=true' }], [
    { query: 'mobile=false' },
    { query: 'mobile=truex' },
    { query: '' },
    // mux only looks at the first value of a repeated key.
    { query: 'mobile=false&mobile=true' },
  ]);
  check('Query(`mobile=`)', 'v2', [{ query: 'mobile' }, { query: 'mobile=anything' }], [{ query: 'other=1' }]);
  check('Query(`id={id:[0-9]+}`, `lang=en`)', 'v2', [{ query: 'id=42&lang=en' }], [{ query: 'id=4x&lang=en' }, { query: 'id=42' }]);
  check('Query(`q`, `a b`)', 'v2', [{ query: 'q=a+b' }], [{ query: 'q=ab' }]);
  rejects('Query(`mobile`)', 'v2', 'Query expects key=value arguments, got an odd number of values (1)', 6);
});

test('v2 ClientIP takes several ranges', () => {
  check('ClientIP(`10.0.0.0/8`, `::1`)', 'v2', [{ clientIp: '10.1.1.1' }, { clientIp: '::1' }], [{ clientIp: '11.1.1.1' }]);
  rejects('ClientIP(`10.0.0.0/8`, `nope`)', 'v2', 'invalid IP or CIDR "nope"', 23);
});

test('v2 uses the same operators and reports v3-only matchers', () => {
  check('Host(`a.com`) && (Path(`/a`) || !Method(`GET`))', 'v2', [{ host: 'a.com', path: '/a' }, { host: 'a.com', method: 'PUT' }], [
    { host: 'a.com', path: '/b' },
  ]);
  rejects('Header(`a`, `b`)', 'v2', "'Header' needs the v3 rule syntax", 0);
  rejects('PathRegexp(`^/a`)', 'v2', "'PathRegexp' needs the v3 rule syntax", 0);
  rejects('Host()', 'v2', 'Host expects at least 1 argument, got 0', 5);
  rejects('Host(`a`, ``)', 'v2', 'empty value for Host', 10);
});

// ---- v1 ----

test('v1 Host: comma-separated hosts are ORed, names case-insensitive, spaces tolerated', () => {
  check('Host:whoami.docker.localhost', 'v1', [{ host: 'whoami.docker.localhost' }], [{ host: 'other.localhost' }]);
  check('Host: a.com , B.com', 'v1', [{ host: 'a.com' }, { host: 'b.com' }], [{ host: 'c.com' }]);
  check('host:a.com', 'v1', [{ host: 'a.com' }], []);
  check('HOST : a.com:8080', 'v1', [{ host: 'a.com' }], []);
  assert.deepEqual(compileRule('Host:a.com,B.com', 'v1').hosts, ['a.com', 'b.com']);
  assert.equal(compileRule('PathPrefix:/a', 'v1').hosts, null);
});

test('v1 segments separated by ; are ANDed and intersect hosts', () => {
  check('Host:a.com;PathPrefix:/api', 'v1', [{ host: 'a.com', path: '/api/x' }], [{ host: 'a.com', path: '/x' }, { host: 'b.com', path: '/api' }]);
  check('Host:a.com;;Method:POST;', 'v1', [{ host: 'a.com', method: 'POST' }], [{ host: 'a.com' }]);
  assert.deepEqual(compileRule('Host:a.com,b.com;Host:b.com,c.com', 'v1').hosts, ['b.com']);
  assert.deepEqual(compileRule('PathPrefix:/x;Host:a.com', 'v1').hosts, ['a.com']);
});

test('v1 matchers: HostRegexp, Path, PathPrefix, Method, Headers, HeadersRegexp, Query', () => {
  check('HostRegexp:localhost,{subdomain:[a-z]+}.localhost', 'v1', [{ host: 'localhost' }, { host: 'foo.localhost' }], [
    { host: 'a.b.localhost' },
  ]);
  check('HostRegexp:{id:[0-9]{1,3}}.example.com', 'v1', [{ host: '12.example.com' }], [{ host: '1234.example.com' }]);
  check('Path:/test1,/test2', 'v1', [{ path: '/test1' }, { path: '/test2' }], [{ path: '/test1/x' }]);
  check('Path:/user/{id:[0-9]+}', 'v1', [{ path: '/user/7' }], [{ path: '/user/x' }]);
  check('PathPrefix:/foo,/bar', 'v1', [{ path: '/foo/x' }, { path: '/bar' }], [{ path: '/baz' }]);
  check('Method:GET,post', 'v1', [{ method: 'GET' }, { method: 'POST' }], [{ method: 'PUT' }]);
  check('Headers:Content-Type,application/json', 'v1', [{ headers: { 'content-type': 'application/json' } }], [{ headers: {} }]);
  check('HeadersRegexp:Content-Type,^application/(text|json)$', 'v1', [{ headers: { 'content-type': 'application/text' } }], [
    { headers: { 'content-type': 'application/xml' } },
  ]);
  check('Query:foo=bar,baz=', 'v1', [{ query: 'foo=bar&baz=1' }], [{ query: 'foo=bar' }]);
});

test('v1 modifiers produce rewrites; the Strip variants also match', () => {
  const strip = compileRule('Host:a.com;PathPrefixStrip:/api,/api/v2', 'v1');
  assert.deepEqual(strip.rewrites, { stripPrefixes: ['/api/v2', '/api'] }); // longest first, as Traefik sorts them
  assert.equal(strip.match(req({ host: 'a.com', path: '/api/x' })), true);
  assert.equal(strip.match(req({ host: 'a.com', path: '/other' })), false);

  const pathStrip = compileRule('PathStrip:/health', 'v1');
  assert.deepEqual(pathStrip.rewrites, { stripPaths: ['/health'] });
  assert.equal(pathStrip.match(req({ path: '/health' })), true);
  assert.equal(pathStrip.match(req({ path: '/health/x' })), false);

  const regexStrip = compileRule('PathPrefixStripRegex:/{lang:[a-z]{2}}', 'v1');
  assert.deepEqual(regexStrip.rewrites, { stripPrefixesRegex: ['/{lang:[a-z]{2}}'] });
  assert.equal(regexStrip.match(req({ path: '/en/docs' })), true);
  assert.equal(regexStrip.match(req({ path: '/e/docs' })), false);
  assert.deepEqual(compileRule('PathStripRegex:/{id:[0-9]+}', 'v1').rewrites, { stripPrefixesRegex: ['/{id:[0-9]+}'] });

  const add = compileRule('Host:a.com;AddPrefix:/prefix', 'v1');
  assert.deepEqual(add.rewrites, { addPrefix: '/prefix' });
  assert.deepEqual(add.hosts, ['a.com']);
  assert.equal(add.match(req({ host: 'a.com', path: '/anything' })), true);

  assert.deepEqual(compileRule('ReplacePath:/serverless-path', 'v1').rewrites, { replacePath: '/serverless-path' });
  assert.equal(compileRule('ReplacePath:/x', 'v1').match(req()), true);
  assert.deepEqual(compileRule('Host:a.com;ReplacePathRegex: ^/api/v2/(.*) /api/$1', 'v1').rewrites, {
    replacePathRegex: { regex: '^/api/v2/(.*)', replacement: '/api/$1' },
  });
  // Whole value: a comma inside the regexp is not a separator.
  assert.deepEqual(compileRule('ReplacePathRegex:^/a{1,2}/(.*) /$1', 'v1').rewrites, {
    replacePathRegex: { regex: '^/a{1,2}/(.*)', replacement: '/$1' },
  });
  assert.deepEqual(compileRule('Host:a.com;PathPrefixStrip:/a;AddPrefix:/b', 'v1').rewrites, { stripPrefixes: ['/a'], addPrefix: '/b' });
  assert.equal(compileRule('Host:a.com;Path:/a', 'v1').rewrites, undefined);
  assert.equal(compileRule('Host(`a.com`)').rewrites, undefined);
});

test('v1 errors are positioned', () => {
  rejects('Host:a.com;Pth:/x', 'v1', "unknown matcher 'Pth' (did you mean 'Path'?)", 11);
  rejects('Host:a.com; Path', 'v1', "expected '<matcher>:<values>' but found \"Path\"", 12);
  rejects('Host:a.com;:x', 'v1', "missing matcher name before ':'", 11);
  rejects('Host:  ,', 'v1', 'Host expects at least 1 argument, got 0', 8);
  rejects('Host:a.com;Headers:X-A', 'v1', 'Headers expects at least 2 arguments, got 1', 22);
  rejects('Headers:a,b,c', 'v1', 'odd number of values (3)', 12);
  rejects('Host:a;  HostRegexp: {x:(}', 'v1', 'invalid regexp', 21);
  rejects('ReplacePathRegex:^/a', 'v1', 'ReplacePathRegex expects "<regexp> <replacement>"', 17);
  rejects('ReplacePathRegex:^/(a /b', 'v1', 'invalid regexp "^/(a"', 17);
  rejects('PathPrefixStrip:api', 'v1', 'path must start with a slash', 16);
  rejects('', 'v1', 'empty rule', 0);
  rejects(' ; ', 'v1', 'empty rule', 0);
  rejects('Host(`a.com`)', 'v1', "expected '<matcher>:<values>'", 0);
});
