import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileRule } from '../../src/rules/index.js';
import { compileRewrites } from '../../src/middlewares/v1-rewrites.js';

function rewrite(v1rule: string, path: string) {
  const fn = compileRewrites(compileRule(v1rule, 'v1').rewrites);
  assert.ok(fn !== null, `${v1rule} has rewrites`);
  return fn(path);
}

test('v1 PathPrefixStrip strips the longest matching prefix and says so', () => {
  assert.deepEqual(rewrite('Host:a;PathPrefixStrip:/api,/api/v1', '/api/v1/users'), { path: '/users', headers: 'x-forwarded-prefix: /api/v1\r\n' });
  assert.deepEqual(rewrite('PathPrefixStrip:/api', '/api'), { path: '/', headers: 'x-forwarded-prefix: /api\r\n' });
});

test('v1 PathStrip, AddPrefix and ReplacePath', () => {
  assert.equal(rewrite('PathStrip:/exact', '/exact').path, '/');
  assert.equal(rewrite('PathPrefix:/;AddPrefix:/v2', '/users').path, '/v2/users');
  const r = rewrite('PathPrefix:/;ReplacePath:/fixed', '/anything');
  assert.equal(r.path, '/fixed');
  assert.equal(r.headers, 'x-replaced-path: /anything\r\n');
});

test('v1 ReplacePathRegex uses Go regexp syntax and Go replacement templates', () => {
  assert.equal(rewrite('PathPrefix:/;ReplacePathRegex: ^/foo/(.*) /bar/${1}', '/foo/x').path, '/bar/x');
  assert.equal(rewrite('PathPrefix:/;ReplacePathRegex: ^/foo/(.*) /bar/$1', '/other').path, '/other');
});

test('v1 PathPrefixStripRegex strips a mux template prefix', () => {
  assert.deepEqual(rewrite('PathPrefixStripRegex:/t/{id:[0-9]+}', '/t/42/x'), { path: '/x', headers: 'x-forwarded-prefix: /t/42\r\n' });
});

test('rules without rewrites compile to no rewrite step', () => {
  assert.equal(compileRewrites(compileRule('Host:a', 'v1').rewrites), null);
});
