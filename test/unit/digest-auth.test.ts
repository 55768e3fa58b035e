// digestAuth: htdigest users checked on the main thread, and the request stage
// as a worker runs it, answered by a client that computes Digest as curl does.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { checkNonce, digestAuth, digestParams, issueNonce, NONCE_LIFETIME_MS, TRACKED_NONCES } from '../../src/middlewares/digest-auth.js';
import { createMiddlewareMemory, MiddlewareMemory } from '../../src/middlewares/shared-memory.js';
import type { Answer, BuildContext, ForwardedRequest } from '../../src/middlewares/types.js';
import { authorization, challengeParams, digestResponse, md5 } from '../helpers/digest-client.js';

// Traefik's documented users: test:test and test2:test2 in the realm traefik.
const TEST = 'test:traefik:a2688e031edb4be6a3797f3882655c05';
const TEST2 = 'test2:traefik:518845800f9e2bfb1f1f740ec24f074e';

/** digestAuth needs nothing of a worker but the shared memory. */
const context = (memory = new MiddlewareMemory(createMiddlewareMemory())): BuildContext => ({ memory }) as BuildContext;

/** parse() as the main thread calls it; digestAuth reads nothing of the configuration around it. */
const parse = digestAuth.parse as (raw: unknown) => ReturnType<typeof digestAuth.parse>;

function stage(options: unknown, ctx = context()) {
  const request = digestAuth.build(parse(options), ctx).request!;
  return (headers: Record<string, string>, target = { method: 'GET', path: '/', query: '' }) => {
    const fr = {
      method: target.method,
      view: { ...target, host: 'a.test', headers, clientIp: '10.0.0.1' },
      tls: false,
      path: target.path,
      query: target.query,
      lines: Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join(''),
      hostHeader: 'a.test',
      responseEdits: null,
      ended: null,
    } as ForwardedRequest;
    const answer = request(fr) as Answer | null;
    return { answer, lines: fr.lines, challenge: answer?.headers.find(([k]) => k === 'WWW-Authenticate')?.[1] ?? '' };
  };
}

function parseError(options: unknown): string {
  try {
    parse(options);
  } catch (err) {
    return (err as Error).message;
  }
  return assert.fail(`no error for ${JSON.stringify(options)}`);
}

describe('digestAuth options', () => {
  test("Traefik's documented users are MD5(user:realm:password), realm traefik by default; keys in any case, label strings", () => {
    assert.equal(TEST.split(':')[2], md5('test:traefik:test'));
    assert.deepEqual(parse({ Users: `${TEST},${TEST2}`, HeaderField: 'X-WebAuth-User', RemoveHeader: 'true' }), {
      users: [['test', md5('test:traefik:test')], ['test2', md5('test2:traefik:test2')]],
      realm: 'traefik',
      headerField: 'x-webauth-user',
      removeHeader: true,
    });
  });

  test('usersFile and users merge, users winning; only users of the realm are kept (as in Traefik)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'digest-')), 'htdigest');
    writeFileSync(file, `# comment\n${TEST}\n${TEST2}\ntest:traefiker:${md5('test:traefiker:test2')}\n\n`);
    const merged = parse({ usersFile: file, users: [`test2:traefik:${md5('test2:traefik:overridden')}`] });
    assert.deepEqual(merged.users, [['test', md5('test:traefik:test')], ['test2', md5('test2:traefik:overridden')]]);
    assert.deepEqual(parse({ usersFile: file, realm: 'traefiker' }).users, [['test', md5('test:traefiker:test2')]]);
  });

  test('bad options are readable errors', () => {
    assert.match(parseError({ users: ['test'] }), /"test" is not user:realm:hash/);
    assert.match(parseError({ users: ['a:b:c:d'] }), /is not user:realm:hash/);
    assert.match(parseError({ users: [`:traefik:${md5('x')}`] }), /is not user:realm:hash/);
    assert.match(parseError({ users: ['bob:traefik:plaintext'] }), /hash of "bob" is not 32 hex digits/);
    assert.match(parseError({ users: [`b\rob:traefik:${md5('x')}`] }), /control characters/);
    assert.match(parseError({}), /needs users or usersFile/);
    assert.match(parseError({ usersFile: '/nonexistent/htdigest' }), /cannot read \/nonexistent\/htdigest: ENOENT/);
    assert.match(parseError({ users: [TEST], realm: 'staff' }), /no user is in the realm "staff"/);
    assert.match(parseError({ users: [TEST], headerField: 'X Bad' }), /not a valid header name/);
    assert.match(parseError({ users: [TEST], removeHeader: 'yes' }), /removeHeader must be true or false/);
    assert.match(parseError({ users: [TEST], nonceLifetime: '1m' }), /unknown option "nonceLifetime"/);
  });

  test('a realm that would break out of the challenge header is refused', () => {
    for (const realm of ['a"b', 'a\\b', 'a\r\nSet-Cookie: x=1', 'a\nb', 'a\0b']) {
      assert.match(parseError({ users: [TEST], realm }), /realm must not contain quotes, backslashes or control characters/, JSON.stringify(realm));
      if (/\p{Cc}/u.test(realm)) assert.match(parseError({ users: [`u:${realm}:${md5('x')}`] }), /control characters|is not user:realm:hash/, JSON.stringify(realm));
    }
  });
});

describe('digestAuth Authorization parameters', () => {
  test('quoted values with escapes and commas, tokens, names in any case; anything else is not Digest', () => {
    const p = digestParams('Digest username="a\\"b", realm="x, y", nc=00000001, QOP=auth');
    assert.deepEqual(p && Object.fromEntries(p), { username: 'a"b', realm: 'x, y', nc: '00000001', qop: 'auth' });
    assert.equal(digestParams('Basic dGVzdDp0ZXN0'), null);
    assert.equal(digestParams('Digest username="a", username="b"'), null, 'a repeated parameter is ambiguous');
    assert.equal(digestParams('Digest username="unterminated'), null);
  });
});

describe('digestAuth requests', () => {
  test('the client computes RFC 2617\'s own example', () => {
    const rfc = { user: 'Mufasa', password: 'Circle Of Life', realm: 'testrealm@host.com', nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', uri: '/dir/index.html', method: 'GET', nc: '00000001', cnonce: '0a4f113b' };
    assert.equal(digestResponse(rfc), '6629fae49393a05397450978507c4ef1');
  });

  test("no credentials: 401 with go-http-auth's challenge; a fresh nonce each time, one opaque", () => {
    const run = stage({ users: [TEST] });
    const a = run({});
    assert.equal(a.answer?.status, 401);
    assert.equal(a.answer?.body, '401 Unauthorized\n');
    assert.match(a.challenge, /^Digest realm="traefik", nonce="[\w-]+", opaque="[\w-]+", algorithm="MD5", qop="auth"$/);
    const b = run({ authorization: 'Basic dGVzdDp0ZXN0' });
    assert.notEqual(challengeParams(b.challenge).nonce, challengeParams(a.challenge).nonce);
    assert.equal(challengeParams(b.challenge).opaque, challengeParams(a.challenge).opaque);
  });

  test('the right password goes through, the user in headerField, Authorization removed; another worker accepts the nonce', () => {
    const memory = new MiddlewareMemory(createMiddlewareMemory());
    const run = stage({ users: [TEST, TEST2], headerField: 'X-WebAuth-User', removeHeader: true }, context(memory));
    const otherWorker = stage({ users: [TEST, TEST2], headerField: 'X-WebAuth-User', removeHeader: true }, context(new MiddlewareMemory(memory.sab)));
    const { challenge } = run({});
    const target = { method: 'POST', path: '/a%20b', query: 'x=1' };
    const ok = otherWorker({ authorization: authorization(challenge, { user: 'test2', password: 'test2', method: 'POST', uri: '/a%20b?x=1' }), accept: '*/*' }, target);
    assert.equal(ok.answer, null);
    assert.equal(ok.lines, 'accept: */*\r\nx-webauth-user: test2\r\n');
  });

  test('a wrong password, user, uri, method, opaque, qop or algorithm, or a forged nonce: 401, not stale', () => {
    const secret = createMiddlewareMemory();
    const run = stage({ users: [TEST] }, context(new MiddlewareMemory(secret)));
    const { challenge } = run({});
    const nonce = challengeParams(challenge).nonce!;
    const tampered = `${nonce.slice(0, 3)}${nonce[3] === 'A' ? 'B' : 'A'}${nonce.slice(4)}`;
    const foreign = issueNonce(new MiddlewareMemory(createMiddlewareMemory()).secret, 'traefik', Date.now());
    const otherRealm = issueNonce(new MiddlewareMemory(secret).secret, 'staff', Date.now());
    const good = authorization(challenge, { user: 'test', password: 'test' });
    const cases: Record<string, [string, { method: string; path: string; query: string }?]> = {
      password: [authorization(challenge, { user: 'test', password: 'nope' })],
      user: [authorization(challenge, { user: 'eve', password: 'test' })],
      uri: [authorization(challenge, { user: 'test', password: 'test', uri: '/admin' })],
      'uri without the query': [good, { method: 'GET', path: '/', query: 'a=1' }],
      method: [good, { method: 'DELETE', path: '/', query: '' }],
      realm: [authorization(challenge, { user: 'test', password: 'test', realm: 'staff' })],
      opaque: [authorization(challenge, { user: 'test', password: 'test', opaque: 'x' })],
      qop: [good.replace('qop=auth', 'qop=auth-int')],
      algorithm: [good.replace('algorithm=MD5', 'algorithm=SHA-256')],
      'tampered nonce': [authorization(challenge, { user: 'test', password: 'test', nonce: tampered })],
      'nonce of another instance': [authorization(challenge, { user: 'test', password: 'test', nonce: foreign })],
      'nonce of another realm': [authorization(challenge, { user: 'test', password: 'test', nonce: otherRealm })],
      'header injection in the user': [authorization(challenge, { user: 'test\r\nx-admin: 1', password: 'test' })],
    };
    for (const [what, [auth, target]] of Object.entries(cases)) {
      const r = run({ authorization: auth }, target);
      assert.equal(r.answer?.status, 401, what);
      assert.equal(challengeParams(r.challenge).stale, undefined, what);
    }
    assert.equal(run({ authorization: good }).answer, null, 'the same nonce with the right answer');
  });

  test('an expired nonce with the right password: 401 stale="true", and a new nonce that works', () => {
    const memory = new MiddlewareMemory(createMiddlewareMemory());
    const run = stage({ users: [TEST] }, context(memory));
    const old = issueNonce(memory.secret, 'traefik', Date.now() - NONCE_LIFETIME_MS - 1000);
    assert.equal(checkNonce(memory.secret, 'traefik', old, Date.now()), 'stale');
    const { challenge } = run({});
    const r = run({ authorization: authorization(challenge, { user: 'test', password: 'test', nonce: old }) });
    assert.equal(r.answer?.status, 401);
    assert.match(r.challenge, /^Digest realm="traefik", nonce="[\w-]+", opaque="[\w-]+", stale="true", algorithm="MD5", qop="auth"$/);
    assert.equal(run({ authorization: authorization(r.challenge, { user: 'test', password: 'test' }) }).answer, null);
    const wrong = run({ authorization: authorization(challenge, { user: 'test', password: 'nope', nonce: old }) });
    assert.equal(challengeParams(wrong.challenge).stale, undefined, 'stale only when the password was right');
  });

  test('nonce counts: a repeated one is a replay (401), a lower one came out of order (stale)', () => {
    const run = stage({ users: [TEST] });
    const { challenge } = run({});
    const as = (nc: string) => run({ authorization: authorization(challenge, { user: 'test', password: 'test', nc }) });
    assert.equal(as('00000001').answer, null);
    const replay = as('00000001');
    assert.equal(replay.answer?.status, 401);
    assert.equal(challengeParams(replay.challenge).stale, undefined);
    assert.equal(as('00000003').answer, null);
    assert.equal(challengeParams(as('00000002').challenge).stale, 'true');
    assert.equal(as('00000004').answer, null);
  });

  test('a worker remembers a bounded number of nonces: the oldest is forgotten first', () => {
    const memory = new MiddlewareMemory(createMiddlewareMemory());
    const run = stage({ users: [TEST] }, context(memory));
    const { challenge } = run({});
    const first = authorization(challenge, { user: 'test', password: 'test' });
    assert.equal(run({ authorization: first }).answer, null);
    assert.equal(run({ authorization: first }).answer?.status, 401);
    for (let i = 0; i < TRACKED_NONCES; i++) {
      const nonce = issueNonce(memory.secret, 'traefik', Date.now());
      assert.equal(run({ authorization: authorization(challenge, { user: 'test', password: 'test', nonce }) }).answer, null);
    }
    assert.equal(run({ authorization: first }).answer, null, 'forgotten: the count starts again');
  });
});
