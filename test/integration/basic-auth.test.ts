// basicAuth on real sockets: 401 with the realm, a right password through
// (bcrypt is checked asynchronously: a POST body waits and arrives whole),
// the user passed on in headerField, and a flood of wrong bcrypt passwords
// that does not hold up a bystander on another router of the same worker.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { request } from '../helpers/http.js';
import { startPortero, type TestPortero } from '../helpers/portero.js';
import { listenLocal } from '../helpers/streams.js';

describe('basicAuth through portero', () => {
  let backend: http.Server;
  let port = 0;
  let p: TestPortero;
  const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

  before(async () => {
    backend = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c) => (body += c));
      req.on('end', () => res.end(JSON.stringify({ user: req.headers['x-webauth-user'] ?? null, authorization: req.headers.authorization ?? null, body })));
    });
    port = await listenLocal(backend);
    // Cost 10, as htpasswd -B makes them: about 50-100 ms of CPU each in JavaScript.
    const hash = bcrypt.hashSync('s3cret', 10);
    p = await startPortero(
      {
        http: {
          routers: {
            dash: { rule: 'Host(`dash.test`)', service: 's', middlewares: ['auth'] },
            sha: { rule: 'Host(`sha.test`)', service: 's', middlewares: ['sha-auth'] },
            open: { rule: 'Host(`open.test`)', service: 's' },
          },
          services: { s: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${port}` }] } } },
          middlewares: {
            auth: { basicAuth: { users: [`admin:${hash}`], realm: 'dashboard', headerField: 'X-WebAuth-User', removeHeader: true } },
            'sha-auth': { basicAuth: { users: [`ops:{SHA}${createHash('sha1').update('pw').digest('base64')}`] } },
          },
        },
      },
      { workers: 1 },
    );
  });

  after(async () => {
    await p.stop();
    backend.close();
  });

  test('no or wrong credentials: 401 with WWW-Authenticate and the realm; the backend is not asked', async () => {
    for (const authorization of [undefined, basic('admin', 'nope'), basic('eve', 's3cret'), 'Bearer x']) {
      const r = await request(p.webPort, { headers: { host: 'dash.test', ...(authorization ? { authorization } : {}) } });
      assert.equal(r.status, 401);
      assert.equal(r.headers['www-authenticate'], 'Basic realm="dashboard"');
      assert.equal(r.body, '401 Unauthorized\n');
    }
    const sha = await request(p.webPort, { headers: { host: 'sha.test' } });
    assert.equal(sha.headers['www-authenticate'], 'Basic realm="traefik"', "Traefik's default realm");
  });

  test('the right password: forwarded with the user in headerField and without Authorization; a POST body arrives whole', async () => {
    const body = 'x'.repeat(200_000);
    const r = await request(p.webPort, { method: 'POST', headers: { host: 'dash.test', authorization: basic('admin', 's3cret'), 'content-type': 'text/plain' }, body });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body) as { user: string; authorization: string | null; body: string };
    assert.equal(seen.user, 'admin');
    assert.equal(seen.authorization, null);
    assert.equal(seen.body.length, body.length);
    const again = await request(p.webPort, { headers: { host: 'dash.test', authorization: basic('admin', 's3cret') } });
    assert.equal(again.status, 200);
    assert.equal((await request(p.webPort, { headers: { host: 'sha.test', authorization: basic('ops', 'pw') } })).status, 200);
  });

  test('a flood of wrong bcrypt passwords does not hold up a bystander on the same worker', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const flood = Array.from({ length: 20 }, (_, i) => request(p.webPort, { headers: { host: 'dash.test', authorization: basic('admin', `guess${i}`) } }));
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const r = await request(p.webPort, { headers: { host: 'open.test' }, agent });
      times.push(performance.now() - t0);
      assert.equal(r.status, 200);
    }
    const statuses = (await Promise.all(flood)).map((r) => r.status);
    assert.deepEqual(new Set(statuses), new Set([401]));
    agent.destroy();
    // 20 bcrypt checks take 1-2 s of CPU; run synchronously they would stall the worker for all of it.
    times.sort((a, b) => a - b);
    assert.ok(times[5]! < 500, `bystander median ${times[5]!.toFixed(0)} ms`);
  });
});
