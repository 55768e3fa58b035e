// Options of compress, buffering, errors and forwardAuth as Traefik names
// them, the errors that disable a router, and compress's choice of encoding.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buffering } from '../../src/middlewares/buffering.js';
import { chooseEncoding, compress } from '../../src/middlewares/compress.js';
import { errors } from '../../src/middlewares/errors.js';
import { forwardAuth } from '../../src/middlewares/forward-auth.js';
import { MiddlewareError } from '../../src/middlewares/types.js';

const refused = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof MiddlewareError && re.test(e.message));

describe('compress', () => {
  test("Accept-Encoding: the server's order among what the client accepts, q=0 refusing, * accepting", () => {
    assert.equal(chooseEncoding('gzip, br', ['br', 'gzip']), 'br');
    assert.equal(chooseEncoding('gzip, br', ['gzip', 'br']), 'gzip');
    assert.equal(chooseEncoding('br;q=0, gzip;q=0.5', ['br', 'gzip']), 'gzip');
    // The client's q decides before the order of `encodings`, as in Traefik.
    assert.equal(chooseEncoding('gzip;q=0.5, br', ['gzip', 'br']), 'br');
    assert.equal(chooseEncoding('gzip;q=0.8, br;q=0.9, zstd;q=0.9', ['gzip', 'br', 'zstd']), 'br');
    assert.equal(chooseEncoding('*', ['br', 'gzip']), 'br');
    assert.equal(chooseEncoding('*;q=0, gzip', ['br', 'gzip']), 'gzip');
    assert.equal(chooseEncoding('identity', ['br', 'gzip']), '');
    assert.equal(chooseEncoding('', ['gzip']), '');
    assert.equal(chooseEncoding('GZIP ; Q=1', ['gzip']), 'gzip');
  });

  test('defaults, label form and option checks', () => {
    const d = compress.parse('true');
    assert.equal(d.minResponseBodyBytes, 1024);
    assert.ok(d.encodings.includes('gzip') && d.encodings.includes('br'));
    assert.deepEqual(compress.parse({ excludedContentTypes: 'text/event-stream, Image/PNG ; q=1' }).excluded, ['text/event-stream', 'image/png']);
    refused(() => compress.parse({ excludedContentTypes: ['a/b'], includedContentTypes: ['c/d'] }), /mutually exclusive/);
    refused(() => compress.parse({ encodings: ['deflate'] }), /unknown encoding "deflate"/);
    refused(() => compress.parse({ minResponseBodyBytes: -1 }), /minResponseBodyBytes/);
  });
});

describe('buffering', () => {
  test("Traefik's options; retryExpression refused with what to use instead", () => {
    assert.deepEqual(buffering.parse({ maxRequestBodyBytes: '2000000', memRequestBodyBytes: 1000, maxResponseBodyBytes: 0 }), { maxRequestBodyBytes: 2_000_000, maxResponseBodyBytes: 0 });
    refused(() => buffering.parse({ retryExpression: 'IsNetworkError() && Attempts() < 2' }), /retryExpression is not supported/);
    refused(() => buffering.parse({ maxRequestBodyBytes: 'lots' }), /maxRequestBodyBytes/);
  });
});

describe('errors', () => {
  const at = { qualify: (s: string) => (s.includes('@') ? s : `${s}@docker`), serviceProblem: (s: string) => (s === 'pages@docker' ? null : `unknown service "${s}"`) };

  test('status ranges, the service qualified by the provider, query and statusRewrites', () => {
    const o = errors.parse({ status: ['500-599', '404'], service: 'pages', query: '/{status}.html', statusRewrites: { '418': 404, '502-504': 500 } }, at);
    assert.deepEqual(o.ranges, [
      [500, 599],
      [404, 404],
    ]);
    assert.equal(o.service, 'pages@docker');
    assert.equal(o.query, '/{status}.html');
    assert.deepEqual(o.rewrites, [
      [418, 418, 404],
      [502, 504, 500],
    ]);
    assert.deepEqual(errors.parse({ status: '500,502-503', service: 'pages' }, at).ranges, [
      [500, 500],
      [502, 503],
    ]);
  });

  test('a missing or unknown service, a bad range or a bad query disable the router', () => {
    refused(() => errors.parse({ status: ['500'], service: 'nope' }, at), /errors.service: unknown service "nope@docker"/);
    refused(() => errors.parse({ service: 'pages' }, at), /needs status/);
    refused(() => errors.parse({ status: ['600-700'], service: 'pages' }, at), /between 100 and 599/);
    refused(() => errors.parse({ status: ['599-500'], service: 'pages' }, at), /range/);
    refused(() => errors.parse({ status: ['5xx'], service: 'pages' }, at), /not a status or a range/);
    refused(() => errors.parse({ status: ['500'], service: 'pages', query: '/a b' }, at), /query/);
  });
});

describe('forwardAuth', () => {
  test('the address split for the pool, lists lower-cased, options checked', () => {
    const o = forwardAuth.parse({ address: 'http://auth:4181/verify?x=1', authResponseHeaders: 'X-Auth-User, X-Secret', trustForwardHeader: 'true' });
    assert.equal(o.host, 'auth');
    assert.equal(o.port, 4181);
    assert.equal(o.https, false);
    assert.equal(o.target, '/verify?x=1');
    assert.deepEqual(o.authResponseHeaders, ['x-auth-user', 'x-secret']);
    assert.equal(o.trustForwardHeader, true);
    const s = forwardAuth.parse({ address: 'https://auth.example' });
    assert.equal(s.port, 443);
    assert.equal(s.target, '/');
  });

  test('bad addresses and unsupported options are refused with the reason', () => {
    refused(() => forwardAuth.parse({}), /needs an address/);
    refused(() => forwardAuth.parse({ address: 'auth:4181' }), /http:\/\/ or https:\/\//);
    refused(() => forwardAuth.parse({ address: 'not a url' }), /is not a URL/);
    refused(() => forwardAuth.parse({ address: 'http://a', authResponseHeadersRegex: '(' }), /authResponseHeadersRegex/);
    refused(() => forwardAuth.parse({ address: 'http://a', forwardBody: true }), /forwardBody is not supported/);
    refused(() => forwardAuth.parse({ address: 'http://a', tls: { insecureSkipVerify: true } }), /tls/);
    refused(() => forwardAuth.parse({ address: 'http://a', nope: 1 }), /unknown option "nope"/);
  });
});
