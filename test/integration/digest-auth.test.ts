// digestAuth on real sockets through two workers, answered as curl --digest
// does: a 401 challenge, then the right credentials through (on any worker:
// nonces are signed, not remembered), wrong ones refused, the user passed on
// in headerField, and a flood of bad credentials that bystanders do not feel.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startBystanders } from '../helpers/bystanders.js';
import { authorization, challengeParams, md5 } from '../helpers/digest-client.js';
import { request } from '../helpers/http.js';
import { startPortero, type TestPortero } from '../helpers/portero.js';
import { listenLocal } from '../helpers/streams.js';

const WORKERS = 2;
// As `htdigest file dashboard admin` writes it (password "s3cret"), and Traefik's documented test:traefik:test.
const ADMIN = `admin:dashboard:${md5('admin:dashboard:s3cret')}`;
const TEST = 'test:traefik:a2688e031edb4be6a3797f3882655c05';

describe('digestAuth through portero', () => {
  let backend: http.Server;
  let p: TestPortero;
  const challenge = async (host: string) => {
    const r = await request(p.webPort, { headers: { host } });
    assert.equal(r.status, 401);
    return r.headers['www-authenticate'] as string;
  };

  before(async () => {
    backend = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: req.url, user: req.headers['x-webauth-user'] ?? null, authorization: req.headers.authorization ?? null }));
    });
    const port = await listenLocal(backend);
    p = await startPortero(
      {
        http: {
          routers: {
            dash: { rule: 'Host(`dash.test`)', service: 's', middlewares: ['auth'] },
            plain: { rule: 'Host(`plain.test`)', service: 's', middlewares: ['plain-auth'] },
            open: { rule: 'Host(`open.test`)', service: 's' },
          },
          services: { s: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${port}` }] } } },
          middlewares: {
            auth: { digestAuth: { users: [ADMIN], realm: 'dashboard', headerField: 'X-WebAuth-User', removeHeader: true } },
            'plain-auth': { digestAuth: { users: [TEST] } },
          },
        },
      },
      { workers: WORKERS },
    );
  });

  after(async () => {
    await p.stop();
    backend.close();
  });

  test("no credentials: 401 with go-http-auth's challenge; the backend is not asked", async () => {
    const r = await request(p.webPort, { headers: { host: 'plain.test' } });
    assert.equal(r.status, 401);
    assert.equal(r.body, '401 Unauthorized\n');
    assert.match(r.headers['www-authenticate']!, /^Digest realm="traefik", nonce="[\w-]+", opaque="[\w-]+", algorithm="MD5", qop="auth"$/);
    assert.match(await challenge('dash.test'), /^Digest realm="dashboard", /);
  });

  test("Traefik's documented user gets through; the user in headerField, Authorization removed where asked", async () => {
    const plain = await challenge('plain.test');
    const auth = authorization(plain, { user: 'test', password: 'test', uri: '/x?y=1' });
    const r = await request(p.webPort, { path: '/x?y=1', headers: { host: 'plain.test', authorization: auth } });
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { url: '/x?y=1', user: null, authorization: auth });

    const dash = await challenge('dash.test');
    const d = await request(p.webPort, { method: 'POST', path: '/save', headers: { host: 'dash.test', authorization: authorization(dash, { user: 'admin', password: 's3cret', method: 'POST', uri: '/save' }) }, body: 'x' });
    assert.equal(d.status, 200);
    assert.deepEqual(JSON.parse(d.body), { url: '/save', user: 'admin', authorization: null });
  });

  test('one nonce serves a session on every worker, one count after another; a replay is refused', async () => {
    const c = await challenge('dash.test');
    // Each request on a new connection: SO_REUSEPORT spreads them over both workers.
    for (let n = 1; n <= 8; n++) {
      const nc = n.toString(16).padStart(8, '0');
      const r = await request(p.webPort, { headers: { host: 'dash.test', authorization: authorization(c, { user: 'admin', password: 's3cret', nc }) } });
      assert.equal(r.status, 200, `nc ${nc}`);
    }
    const ninth = authorization(c, { user: 'admin', password: 's3cret', nc: '00000009' });
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    // Replays on one connection, so on the worker that saw the count.
    assert.equal((await request(p.webPort, { headers: { host: 'dash.test', authorization: ninth }, agent: keepAlive })).status, 200);
    const replay = await request(p.webPort, { headers: { host: 'dash.test', authorization: ninth }, agent: keepAlive });
    keepAlive.destroy();
    assert.equal(replay.status, 401);
    assert.equal(challengeParams(replay.headers['www-authenticate']!).stale, undefined);
  });

  test('a wrong password, user, uri or a tampered nonce: 401 with a new challenge, not stale', async () => {
    const c = await challenge('dash.test');
    const nonce = challengeParams(c).nonce!;
    const tampered = `${nonce.slice(0, -2)}${nonce.endsWith('AA') ? 'BB' : 'AA'}`;
    const attempts = {
      password: { auth: authorization(c, { user: 'admin', password: 'nope' }), path: '/' },
      user: { auth: authorization(c, { user: 'root', password: 's3cret' }), path: '/' },
      uri: { auth: authorization(c, { user: 'admin', password: 's3cret', uri: '/public' }), path: '/admin' },
      nonce: { auth: authorization(c, { user: 'admin', password: 's3cret', nonce: tampered }), path: '/' },
      basic: { auth: `Basic ${Buffer.from('admin:s3cret').toString('base64')}`, path: '/' },
    };
    for (const [what, { auth, path }] of Object.entries(attempts)) {
      const r = await request(p.webPort, { path, headers: { host: 'dash.test', authorization: auth } });
      assert.equal(r.status, 401, what);
      const again = challengeParams(r.headers['www-authenticate']!);
      assert.equal(again.stale, undefined, what);
      assert.notEqual(again.nonce, nonce, what);
    }
  });

  test('a flood of bad credentials: bystanders on every worker keep their answers; the right ones still work', async () => {
    const bystanders = await startBystanders(p.webPort, { host: 'open.test', workers: WORKERS });
    const c = await challenge('dash.test');
    for (let batch = 0; batch < 10; batch++) {
      const flood = Array.from({ length: 20 }, (_, i) =>
        request(p.webPort, { headers: { host: 'dash.test', authorization: authorization(c, { user: 'admin', password: `guess${batch}-${i}`, cnonce: `c${i}` }) } }),
      );
      assert.deepEqual(new Set((await Promise.all(flood)).map((r) => r.status)), new Set([401]));
    }
    const report = await bystanders.stop();
    assert.deepEqual(report.failures, []);
    assert.ok(report.perConnection.every((n) => n > 0), `every bystander was answered: ${report.perConnection.join(',')}`);
    const fresh = await challenge('dash.test');
    assert.equal((await request(p.webPort, { headers: { host: 'dash.test', authorization: authorization(fresh, { user: 'admin', password: 's3cret' }) } })).status, 200);
  });
});
