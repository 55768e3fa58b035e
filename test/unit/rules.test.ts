// Traefik v3 rule syntax (the default): matchers, operators, quoting, errors,
// host extraction and default priority.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RuleError, compileRule, defaultPriority, type RequestView } from '../../src/rules/index.js';

function req(over: Partial<RequestView> = {}): RequestView {
  return { method: 'GET', host: 'example.com', path: '/', query: '', headers: {}, clientIp: '127.0.0.1', ...over };
}

/** Asserts that `rule` matches exactly the `yes` requests and none of the `no` ones. */
function check(
  rule: string,
  yes: Partial<RequestView>[],
  no: Partial<RequestView>[],
  syntax: 'v3' | 'v2' | 'v1' = 'v3',
): void {
  const { match } = compileRule(rule, syntax);
  for (const r of yes) assert.equal(match(req(r)), true, `${rule} should match ${JSON.stringify(r)}`);
  for (const r of no) assert.equal(match(req(r)), false, `${rule} should not match ${JSON.stringify(r)}`);
}

/** Asserts a RuleError whose message contains `message` at `position`. */
function rejects(rule: string, message: string | RegExp, position: number, syntax: 'v3' | 'v2' | 'v1' = 'v3'): void {
  assert.throws(
    () => compileRule(rule, syntax),
    (e: unknown) => {
      assert.ok(e instanceof RuleError, `expected RuleError, got ${String(e)}`);
      if (typeof message === 'string') assert.ok(e.message.includes(message), `"${e.message}" should contain "${message}"`);
      else assert.match(e.message, message);
      assert.equal(e.position, position, `position of "${e.message}"`);
      return true;
    },
    rule,
  );
}

test('Host is exact, case- and port-insensitive, trailing dot ignored', () => {
  check('Host(`example.com`)', [{ host: 'example.com' }], [{ host: 'example.org' }, { host: 'www.example.com' }, { host: '' }]);
  check('Host(`EXAMPLE.Com`)', [{ host: 'example.com' }], [{ host: 'example.org' }]);
  check('Host(`example.com.`)', [{ host: 'example.com' }], [{ host: 'example.co' }]);
  check('Host(`example.com:8080`)', [{ host: 'example.com' }], [{ host: 'example.org' }]);
  check('Host(`[::1]:8443`)', [{ host: '::1' }], [{ host: '::2' }]);
  assert.deepEqual(compileRule('Host(`Example.COM:8080`)').hosts, ['example.com']);
  assert.deepEqual(compileRule('Host(`[::1]`)').hosts, ['::1']);
});

test('Host wildcards: one label, and `*` matches everything (Traefik 3.7)', () => {
  check('Host(`*.example.com`)', [{ host: 'a.example.com' }, { host: 'www.example.com' }], [
    { host: 'example.com' },
    { host: 'a.b.example.com' },
    { host: 'a.otherexample.com' },
  ]);
  check('Host(`*`)', [{ host: 'anything.test' }, { host: '' }], []);
  assert.equal(compileRule('Host(`*.example.com`)').hosts, null);
  assert.equal(compileRule('Host(`*`)').hosts, null);
  assert.equal(compileRule('Host(`*`) && Host(`a.com`)').hosts?.[0], 'a.com');
});

test('Host rejects non-ASCII values and empty host names', () => {
  rejects('Host(`🦭.com`)', 'non-ASCII', 5);
  rejects('HostRegexp(`é`)', 'non-ASCII', 11);
  rejects('Host(`:8080`)', 'no host name', 5);
});

test('HostRegexp is a Go regexp matched like MatchString (not anchored)', () => {
  check('HostRegexp(`^[a-z-]+\\.com$`)', [{ host: 'example.com' }], [{ host: 'example.org' }, { host: 'ex4mple.com' }]);
  check('HostRegexp(`example`)', [{ host: 'www.example.org' }], [{ host: 'foo.test' }]);
  // The request host is lower-cased, so an upper-case regexp cannot match (as in Traefik).
  check('HostRegexp(`^[A-Z]+\\.com$`)', [], [{ host: 'example.com' }]);
  check('HostRegexp(`(?i)^EXAMPLE\\.(com|org)$`)', [{ host: 'example.org' }], [{ host: 'example.net' }]);
  // v2-style placeholders are plain regexp text in v3: `{` is a literal.
  check('HostRegexp(`{sub:[a-z]+}.example.com`)', [], [{ host: 'a.example.com' }]);
  assert.equal(compileRule('HostRegexp(`^example\\.com$`)').hosts, null);
});

test('Path is exact and PathPrefix a plain prefix, on the routing path', () => {
  check('Path(`/products`)', [{ path: '/products' }], [{ path: '/products/' }, { path: '/products/shoes' }, { path: '/product' }]);
  check('PathPrefix(`/products`)', [{ path: '/products' }, { path: '/products/shoes' }, { path: '/products-for-sale' }], [
    { path: '/product' },
    { path: '/' },
  ]);
  // Unreserved escapes are decoded before matching, reserved ones are kept.
  check('PathPrefix(`/foo bar`)', [{ path: '/foo%20bar/x' }], [{ path: '/foo+bar' }]);
  check('Path(`/a%2Fb`)', [{ path: '/a%2Fb' }], [{ path: '/a/b' }]);
  check('Path(`/é`)', [{ path: '/%C3%A9' }], [{ path: '/%C3' }]);
  rejects('Path(`css`)', "does not start with '/'", 5);
  rejects('PathPrefix(`css`)', "does not start with '/'", 11);
});

test('PathRegexp is an unanchored Go regexp', () => {
  check('PathRegexp(`\\.(jpeg|jpg|png)$`)', [{ path: '/img/a.png' }, { path: '/b.jpeg' }], [{ path: '/a.gif' }, { path: '/a.png/x' }]);
  check('PathRegexp(`^/products/(shoes|socks)/[0-9]+$`)', [{ path: '/products/shoes/31' }], [{ path: '/products/hats/31' }]);
  check('PathRegexp(`(?i)^/products`)', [{ path: '/PRODUCTS/x' }], [{ path: '/x/products' }]);
  check('PathRegexp(`/api`)', [{ path: '/v1/api/x' }], [{ path: '/v1/ap' }]);
  check('PathRegexp(`/{path:(css|js)}`)', [], [{ path: '/css' }]);
  rejects('PathRegexp(`/(css`)', 'invalid regexp "/(css" in PathRegexp: missing closing )', 11);
});

test('Method upper-cases the rule value and compares case-sensitively', () => {
  check('Method(`GET`)', [{ method: 'GET' }], [{ method: 'POST' }, { method: 'get' }]);
  check('Method(`get`)', [{ method: 'GET' }], [{ method: 'get' }]);
  rejects('Method(`GET`, `POST`)', 'Method expects 1 argument, got 2', 14);
});

test('Header: name case-insensitive, value exact, repeated headers joined with ", "', () => {
  check('Header(`X-Forwarded-Proto`, `https`)', [{ headers: { 'x-forwarded-proto': 'https' } }], [
    { headers: { 'x-forwarded-proto': 'http' } },
    { headers: { 'x-forwarded-proto': 'HTTPS' } },
    { headers: {} },
  ]);
  check('Header(`x-forwarded-proto`, `https`)', [{ headers: { 'x-forwarded-proto': 'https' } }], []);
  const joined = { headers: { 'x-tag': 'a, b, c' } };
  check('Header(`X-Tag`, `b`)', [joined], [{ headers: { 'x-tag': 'ab, c' } }]);
  check('Header(`X-Tag`, `a, b, c`)', [joined], []);
  check('Header(`X-Tag`, `c`)', [joined], []);
  check('Header(`X-Tag`, `a, b`)', [], [joined]);
  rejects('Header(`X-Forwarded-Host`)', 'Header expects 2 arguments, got 1', 25);
  rejects('Header(`X-Forwarded-Host`, ``)', 'empty value for Header', 27);
});

test('HeaderRegexp tests the whole value and each joined value', () => {
  check('HeaderRegexp(`Content-Type`, `^application/(json|yaml)$`)', [
    { headers: { 'content-type': 'application/json' } },
    { headers: { 'content-type': 'text/plain, application/yaml' } },
  ], [{ headers: { 'content-type': 'application/xml' } }, { headers: {} }]);
  check('HeaderRegexp(`Content-Type`, `(?i)^application/JSON$`)', [{ headers: { 'content-type': 'application/json' } }], []);
  check('HeaderRegexp(`X-Forwarded-Proto`, `http{secure:s?}`)', [], [{ headers: { 'x-forwarded-proto': 'https' } }]);
  rejects('HeaderRegexp(`X-Forwarded-Host`,`(example.com`)', 'invalid regexp', 32);
});

test('Query with a value, and Query(`k`) for a parameter without value', () => {
  check('Query(`q`, `traefik`)', [
    { query: 'q=traefik' },
    { query: 'rel=ddg&q=traefik' },
    { query: 'q=traefik&q=proxy' },
    { query: 'q=awesome&q=traefik' },
    { query: 'q=tra%65fik' },
  ], [{ query: '' }, { query: 'q=nginx' }, { query: 'q=TRAEFIK' }, { query: 'Q=traefik' }, { query: 'rel=traefik' }]);
  check('Query(`mobile`)', [{ query: 'mobile' }, { query: 'mobile=' }, { query: 'a=1&mobile' }], [{ query: '' }, { query: 'mobile=true' }]);
  check('Query(`a b`, `c d`)', [{ query: 'a+b=c%20d' }], [{ query: 'a+b=c%2' }]);
  // Like Go's url.ParseQuery: pairs containing ';' are skipped.
  check('Query(`q`, `x`)', [{ query: 'q=x&r=1' }], [{ query: 'q=x;r=1' }]);
  rejects('Query()', 'Query expects 1 or 2 arguments, got 0', 6);
  rejects('Query(`q`, ``)', 'empty value for Query', 11);
  rejects('Query(`q`, `traefik`, `proxy`)', 'Query expects 1 or 2 arguments, got 3', 22);
});

test('QueryRegexp', () => {
  check('QueryRegexp(`q`, `^(traefik|nginx)$`)', [{ query: 'q=traefik' }, { query: 'q=awesome&q=nginx' }], [
    { query: 'q=haproxy' },
    { query: 'q=NGINX' },
    { query: 'rel=nginx' },
  ]);
  check('QueryRegexp(`mobile`, `^.*$`)', [{ query: 'mobile' }, { query: 'mobile=yes' }], [{ query: 'other=1' }]);
  check('QueryRegexp(`mobile`)', [{ query: 'mobile' }], [{ query: 'mobile=1' }]);
  check('QueryRegexp(`q`, `{value:(traefik|nginx)}`)', [], [{ query: 'q=traefik' }]);
  rejects('QueryRegexp(`q`, `(traefik`)', 'invalid regexp', 17);
});

test('ClientIP: single IPv4/IPv6 addresses and CIDRs, Go family rules', () => {
  check('ClientIP(`127.0.0.1`)', [{ clientIp: '127.0.0.1' }, { clientIp: '::ffff:127.0.0.1' }], [{ clientIp: '192.168.1.1' }, { clientIp: '1' }]);
  check('ClientIP(`192.168.1.0/24`)', [{ clientIp: '192.168.1.1' }, { clientIp: '192.168.1.100' }], [{ clientIp: '192.168.2.1' }]);
  check('ClientIP(`10.0.0.0/8`)', [{ clientIp: '10.255.0.1' }], [{ clientIp: '11.0.0.1' }, { clientIp: '::1' }]);
  check('ClientIP(`::1`)', [{ clientIp: '::1' }, { clientIp: '0:0:0:0:0:0:0:1' }], [{ clientIp: '::2' }, { clientIp: '127.0.0.1' }]);
  check('ClientIP(`fe80::/10`)', [{ clientIp: 'fe80::1' }, { clientIp: 'febf:ffff::1%eth0' }], [{ clientIp: 'fec0::1' }]);
  check('ClientIP(`::/0`)', [{ clientIp: '2001:db8::1' }], [{ clientIp: '10.0.0.1' }]);
  check('ClientIP(`0.0.0.0/0`)', [{ clientIp: '10.0.0.1' }], [{ clientIp: '2001:db8::1' }]);
  check('ClientIP(`::ffff:10.0.0.0/104`)', [{ clientIp: '10.1.2.3' }], [{ clientIp: '11.1.2.3' }]);
  check('ClientIP(`2001:db8::1:0:0/96`)', [{ clientIp: '2001:db8::1:ab:cd' }], [{ clientIp: '2001:db8::2:0:0' }]);
  rejects('ClientIP(`1`)', 'invalid IP or CIDR "1" for ClientIP', 9);
  rejects('ClientIP(`10.0.0.0/33`)', 'invalid IP or CIDR', 9);
  rejects('ClientIP(`010.0.0.1`)', 'invalid IP or CIDR', 9);
  rejects('ClientIP(`127.0.0.1`, `192.168.1.0/24`)', 'ClientIP expects 1 argument, got 2', 22);
});

test('operators: ! binds tightest, then &&, then ||; parentheses group', () => {
  // a || b && c  ==  a || (b && c)
  const rule = 'Host(`a.com`) || Host(`b.com`) && Path(`/x`)';
  check(rule, [{ host: 'a.com', path: '/y' }, { host: 'b.com', path: '/x' }], [{ host: 'b.com', path: '/y' }]);
  check('(Host(`a.com`) || Host(`b.com`)) && Path(`/x`)', [{ host: 'b.com', path: '/x' }], [{ host: 'a.com', path: '/y' }]);
  // !a && b  ==  (!a) && b
  check('!Host(`a.com`) && Path(`/x`)', [{ host: 'c.com', path: '/x' }], [{ host: 'a.com', path: '/x' }, { host: 'c.com', path: '/y' }]);
  check('!(Host(`a.com`) && Path(`/x`))', [{ host: 'a.com', path: '/y' }], [{ host: 'a.com', path: '/x' }]);
  check('!!Host(`a.com`)', [{ host: 'a.com' }], [{ host: 'b.com' }]);
  check('Path(`/a`) || Path(`/b`) || Path(`/c`)', [{ path: '/c' }], [{ path: '/d' }]);
  check('Host(`a.com`) &&\n  PathPrefix(`/api`)', [{ host: 'a.com', path: '/api/v1' }], [{ host: 'a.com', path: '/' }]);
});

test('values in double quotes follow Go strconv.Unquote', () => {
  check('PathPrefix("/api")', [{ path: '/api/x' }], [{ path: '/ap' }]);
  check('Header("X-A", "a\\tb")', [{ headers: { 'x-a': 'a\tb' } }], [{ headers: { 'x-a': 'a\\tb' } }]);
  check('Path("/\\u00e9\\x41\\101\\"")', [{ path: '/éAA"' }], []);
  check('Path("/\\xc3\\xa9")', [{ path: '/é' }], []);
  check('PathRegexp("\\\\.png$")', [{ path: '/a.png' }], [{ path: '/apng' }]);
  // Backtick strings are raw: no escapes at all.
  check('Header(`X-A`, `a\\tb`)', [{ headers: { 'x-a': 'a\\tb' } }], []);
  check('Host(`a.com`,)', [{ host: 'a.com' }], []); // Go accepts a trailing comma
  rejects('Path("/a\\q")', "invalid escape sequence '\\q'", 8);
  rejects('Path("/a\\\'")', 'invalid escape sequence', 8);
  rejects('Path("/\\uD800")', 'invalid escape sequence', 7);
  rejects('Path("/a)', 'unterminated double-quoted string', 5);
  rejects("Path('/a')", 'single-quoted values are not supported', 5);
});

test('matcher names: Name, name, NAME and Title-case are accepted, like Traefik', () => {
  for (const name of ['PathPrefix', 'pathprefix', 'PATHPREFIX', 'Pathprefix']) check(`${name}(\`/a\`)`, [{ path: '/a/b' }], [{ path: '/b' }]);
  rejects('pathPrefix(`/a`)', "unknown matcher 'pathPrefix' (did you mean 'PathPrefix'?)", 0);
});

test('syntax errors carry a readable message and a 0-based position', () => {
  rejects('Hots(`a.com`)', "unknown matcher 'Hots'", 0);
  rejects('Host(`a.com`) && Foo(`x`)', "unknown matcher 'Foo'", 17);
  rejects('Headers(`a`, `b`)', "'Headers' is v2 syntax", 0);
  rejects('Host(`a.com', 'unterminated backtick string', 5);
  rejects('Host(`a.com`', "expected ',' or ')' but found end of rule", 12);
  rejects('Host(`a`, `b`)', 'Host expects 1 argument, got 2', 10);
  rejects('Host()', 'Host expects 1 argument, got 0', 5);
  rejects('Host(`a`) & Path(`/`)', "unexpected character '&' (did you mean '&&'?)", 10);
  rejects('Host(`a`) | Path(`/`)', "did you mean '||'?", 10);
  rejects('Host(`a`) Path(`/`)', "unexpected 'Path' after the end of the expression", 10);
  rejects('Host(`a`) &&', 'expected a matcher', 12);
  rejects('(Host(`a`)', "expected ')' but found end of rule", 10);
  rejects('Host', "expected '(' after 'Host'", 4);
  rejects('Host(a)', 'expected a value in backticks or double quotes', 5);
  rejects('Host(`a` `b`)', "expected ',' or ')'", 9);
  rejects('Host(`a`) && 42', "unexpected character '4'", 13);
  rejects('', 'empty rule', 0);
  rejects('   ', 'empty rule', 0);
  const e = (() => {
    try {
      compileRule('Hots(`a`)');
    } catch (err) {
      return err;
    }
  })();
  assert.ok(e instanceof RuleError);
  assert.equal(e.name, 'RuleError');
  assert.match(e.message, /at position 0$/);
});

test('invalid regexps are rejected with Go-style reasons', () => {
  rejects('HostRegexp(`(example.com`)', 'missing closing )', 11);
  rejects('PathRegexp(`/a(?=b)`)', 'invalid or unsupported Perl syntax', 11);
  rejects('PathRegexp(`/(a)\\1`)', 'invalid escape sequence', 11);
  rejects('PathRegexp(`*a`)', 'missing argument to repetition operator', 11);
  rejects('PathRegexp(`a{1001}`)', 'invalid repeat count', 11);
  rejects('PathRegexp(`[z-a]`)', 'invalid character class range', 11);
  rejects('PathRegexp(`\\p{Nope}`)', 'invalid regexp', 11);
});

test('hosts: AND pins (intersection), OR unions only when both sides pin, NOT unpins', () => {
  const hosts = (rule: string, syntax: 'v3' | 'v2' = 'v3'): string[] | null => compileRule(rule, syntax).hosts;
  assert.deepEqual(hosts('Host(`a.com`)'), ['a.com']);
  assert.deepEqual(hosts('Host(`a.com`) && PathPrefix(`/x`)'), ['a.com']);
  assert.deepEqual(hosts('PathPrefix(`/x`) && Host(`A.com`)'), ['a.com']);
  assert.deepEqual(hosts('Host(`a.com`) || Host(`b.com`)'), ['a.com', 'b.com']);
  assert.deepEqual(hosts('Host(`a.com`) || Host(`a.com`)'), ['a.com']);
  assert.equal(hosts('Host(`a.com`) || PathPrefix(`/x`)'), null);
  assert.equal(hosts('!Host(`a.com`)'), null);
  assert.equal(hosts('!Host(`a.com`) && Path(`/`)'), null);
  assert.deepEqual(hosts('(Host(`a.com`) || Host(`b.com`)) && (Host(`b.com`) || Host(`c.com`))'), ['b.com']);
  assert.deepEqual(hosts('Host(`a.com`) && Host(`b.com`)'), []); // can never match
  assert.deepEqual(hosts('(Host(`a.com`) || PathPrefix(`/x`)) && Host(`b.com`)'), ['b.com']);
  assert.equal(hosts('HostRegexp(`a\\.com`)'), null);
  assert.equal(hosts('Path(`/`)'), null);
  assert.deepEqual(hosts('Host(`a.com`, `B.com`)', 'v2'), ['a.com', 'b.com']);
  assert.deepEqual(hosts('HostHeader(`a.com`) || Host(`c.com`)', 'v2'), ['a.com', 'c.com']);
});

test('hosts never exclude a request the matcher accepts', () => {
  const rules = [
    'Host(`a.com`) || Host(`b.com`) && Path(`/x`)',
    '(Host(`a.com`) || PathPrefix(`/x`)) && Host(`b.com`)',
    '!Host(`a.com`) || Host(`b.com`)',
    'Host(`*`) || Host(`a.com`)',
    'Host(`a.com`) && !Host(`b.com`)',
  ];
  const requests = ['a.com', 'b.com', 'c.com'].flatMap((host) => ['/x', '/y'].map((path) => req({ host, path })));
  for (const rule of rules) {
    const { match, hosts } = compileRule(rule);
    for (const r of requests) if (match(r) && hosts !== null) assert.ok(hosts.includes(r.host), `${rule} / ${r.host}${r.path}`);
  }
});

test('defaultPriority is the rule length (in bytes, as Go counts it)', () => {
  assert.equal(defaultPriority('Host(`foobar.traefik.com`)'), 26);
  assert.equal(defaultPriority('HostRegexp(`{subdomain:[a-z]+}.traefik.com`)'), 44);
  assert.equal(defaultPriority('PathPrefix:/foo;Host:foo.com'), 28);
  assert.equal(defaultPriority('Path(`/é`)'), 11);
});

test('compileRule rejects an unknown syntax name', () => {
  assert.throws(() => compileRule('Host(`a`)', 'v4' as 'v3'), /unknown rule syntax 'v4'/);
});

test('common matchers do not need the query and tolerate any request shape', () => {
  const { match } = compileRule('Host(`a.com`) && PathPrefix(`/api`) && Method(`GET`)');
  const view = req({ host: 'a.com', path: '/api/x' });
  Object.defineProperty(view, 'query', {
    get() {
      throw new Error('query read');
    },
  });
  assert.equal(match(view), true);
});
