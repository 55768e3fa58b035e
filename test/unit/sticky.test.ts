// Sticky cookies as Traefik writes and reads them: the value from the
// server's URL, the default name from the service's, Go's attribute order,
// and the Cookie header read as browsers send it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { cookieValue, stickyCookieName, stickySpec, stickyValue } from '../../src/balancer/sticky.js';

test("the value is Traefik's: the first 16 hex digits of SHA-256 of the server URL", () => {
  assert.equal(stickyValue('http://10.0.1.7:80'), createHash('sha256').update('http://10.0.1.7:80').digest('hex').slice(0, 16));
  assert.notEqual(stickyValue('http://10.0.1.7:80'), stickyValue('http://10.0.1.8:80'));
});

test("names: the configured one sanitized as Traefik does, else _ and SHA-1 of _TRAEFIK_BACKEND_<service>", () => {
  assert.equal(stickyCookieName('my cookie;x', 's@swarm'), 'my_cookie_x');
  assert.equal(stickyCookieName(undefined, 'whoami@swarm'), `_${createHash('sha1').update('_TRAEFIK_BACKEND_whoami@swarm').digest('hex')}`.slice(0, 6));
  assert.equal(stickyCookieName('', 'a').length, 6);
});

test("attributes in Go's order; MaxAge below 0 expires at once; SameSite only when known", () => {
  assert.deepEqual(stickySpec({}, 's'), { cookie: stickyCookieName(undefined, 's'), attributes: '; Path=/' });
  assert.equal(
    stickySpec({ name: 'c', path: '/app', domain: '.example.com', maxAge: 60, httpOnly: true, secure: true, sameSite: 'None' }, 's').attributes,
    '; Path=/app; Domain=example.com; Max-Age=60; HttpOnly; Secure; SameSite=None',
  );
  assert.equal(stickySpec({ maxAge: -1 }, 's').attributes, '; Path=/; Max-Age=0');
  assert.equal(stickySpec({ maxAge: 0, sameSite: 'strict' }, 's').attributes, '; Path=/; SameSite=Strict');
});

test('the Cookie header: the named cookie among others, quoted or not; absent is empty', () => {
  assert.equal(cookieValue('a=1; app_session=abc; b=2', 'app_session'), 'abc');
  assert.equal(cookieValue('app_session="abc"', 'app_session'), 'abc');
  assert.equal(cookieValue('xapp_session=1; app_session=2', 'app_session'), '2');
  assert.equal(cookieValue('a=1', 'app_session'), '');
  assert.equal(cookieValue(undefined, 'app_session'), '');
  assert.equal(cookieValue('app_session', 'app_session'), '');
});
