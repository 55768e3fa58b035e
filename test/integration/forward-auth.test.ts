// forwardAuth on real sockets, as Traefik documents it: the auth server sees
// the request's headers and X-Forwarded-*; a 2xx lets the request through
// with authResponseHeaders copied (a client cannot forge them); anything else
// is the client's answer; an unreachable auth server means 500. A slow auth
// server holds only the requests that wait for it.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import { startBystanders } from '../helpers/bystanders.js';
import { request } from '../helpers/http.js';
import { freePort, startPortero, type TestPortero } from '../helpers/portero.js';
import { listenLocal } from '../helpers/streams.js';

const WORKERS = 2;

describe('forwardAuth through portero', () => {
  let backend: http.Server;
  let auth: http.Server;
  let p: TestPortero;
  const asked: http.IncomingHttpHeaders[] = [];
  const methods: string[] = [];

  before(async () => {
    backend = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.setHeader('set-cookie', 'backend=1');
        res.end(JSON.stringify({ url: req.url, headers: req.headers, body }));
      });
    });
    auth = http.createServer((req, res) => {
      asked.push(req.headers);
      methods.push(req.method ?? '');
      const token = req.headers.authorization;
      if (req.headers['x-forwarded-uri'] === '/slow') {
        setTimeout(() => res.end('ok'), 800);
        return;
      }
      if (token === 'Bearer good') {
        res.writeHead(200, { 'x-auth-user': 'alice', 'x-auth-role': 'admin', 'x-other': 'not copied', 'set-cookie': ['session=abc; Path=/', 'tracking=1'] });
        res.end();
        return;
      }
      if (token === 'Bearer login') {
        res.writeHead(302, { location: 'https://login.example/?next=1' });
        res.end();
        return;
      }
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="test"', 'content-type': 'text/plain' });
      res.end('denied by auth');
    });
    const backendPort = await listenLocal(backend);
    const authPort = await listenLocal(auth);
    const deadPort = await freePort();
    const config: DynamicConfig = {
      http: {
        routers: {
          guarded: { rule: 'Host(`app.test`)', service: 's', middlewares: ['check'] },
          narrow: { rule: 'Host(`narrow.test`)', service: 's', middlewares: ['check-narrow'] },
          down: { rule: 'Host(`down.test`)', service: 's', middlewares: ['dead'] },
          plain: { rule: 'Host(`plain.test`)', service: 's' },
        },
        services: { s: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${backendPort}` }] } } },
        middlewares: {
          check: {
            forwardAuth: {
              address: `http://127.0.0.1:${authPort}/verify`,
              authResponseHeaders: ['X-Auth-User'],
              authResponseHeadersRegex: '^X-Auth-R',
              addAuthCookiesToResponse: ['session'],
            },
          },
          'check-narrow': { forwardAuth: { address: `http://127.0.0.1:${authPort}/verify`, authRequestHeaders: ['Authorization'] } },
          dead: { forwardAuth: { address: `http://127.0.0.1:${deadPort}/verify` } },
        },
      },
    };
    p = await startPortero(config, { workers: WORKERS });
  });

  after(async () => {
    await p.stop();
    backend.close();
    auth.close();
  });

  test('a 2xx lets the request through with the chosen headers, forged ones replaced, and the chosen cookie added', async () => {
    const r = await request(p.webPort, { path: '/page?x=1', headers: { host: 'app.test', authorization: 'Bearer good', 'x-auth-user': 'mallory', 'x-auth-roles-forged': 'root' } });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body) as { url: string; headers: http.IncomingHttpHeaders };
    assert.equal(seen.url, '/page?x=1');
    assert.equal(seen.headers['x-auth-user'], 'alice');
    assert.equal(seen.headers['x-auth-role'], 'admin');
    assert.equal(seen.headers['x-auth-roles-forged'], undefined, 'headers matching the regex are removed before copying');
    assert.equal(seen.headers['x-other'], undefined);
    const cookies = r.headers['set-cookie'] ?? [];
    assert.ok(cookies.includes('backend=1'));
    assert.ok(cookies.includes('session=abc; Path=/'));
    assert.ok(!cookies.includes('tracking=1'));
    const a = asked.at(-1)!;
    assert.equal(methods.at(-1), 'GET');
    assert.equal(a['x-forwarded-method'], 'GET');
    assert.equal(a['x-forwarded-uri'], '/page?x=1');
    assert.equal(a['x-forwarded-host'], 'app.test');
    assert.equal(a['x-forwarded-proto'], 'http');
    assert.equal(a['x-forwarded-for'], '127.0.0.1');
    assert.equal(a.authorization, 'Bearer good');
  });

  test("any other answer is the client's, as the auth server gave it", async () => {
    const denied = await request(p.webPort, { path: '/', headers: { host: 'app.test' } });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers['www-authenticate'], 'Bearer realm="test"');
    assert.equal(denied.body, 'denied by auth');
    const login = await request(p.webPort, { path: '/', headers: { host: 'app.test', authorization: 'Bearer login' } });
    assert.equal(login.status, 302);
    assert.equal(login.headers.location, 'https://login.example/?next=1');
  });

  test('a POST body waits for the verdict and then reaches the server whole', async () => {
    const body = 'y'.repeat(200_000);
    const r = await request(p.webPort, { method: 'POST', path: '/upload', headers: { host: 'app.test', authorization: 'Bearer good' }, body });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { body: string }).body.length, body.length);
    assert.equal(methods.at(-1), 'GET', 'the auth call never carries the body');
    assert.equal(asked.at(-1)!['x-forwarded-method'], 'POST');
  });

  test('authRequestHeaders: the auth server sees only those headers (and X-Forwarded-*)', async () => {
    await request(p.webPort, { path: '/', headers: { host: 'narrow.test', authorization: 'Bearer good', cookie: 'secret=1' } });
    const a = asked.at(-1)!;
    assert.equal(a.authorization, 'Bearer good');
    assert.equal(a.cookie, undefined);
    assert.equal(a['x-forwarded-host'], 'narrow.test');
  });

  test('an unreachable auth server means 500', async () => {
    const r = await request(p.webPort, { path: '/', headers: { host: 'down.test', authorization: 'Bearer good' } });
    assert.equal(r.status, 500);
  });

  test('requests waiting on a slow auth server hold no one else', async () => {
    const bystanders = await startBystanders(p.webPort, { host: 'plain.test', workers: WORKERS });
    const slow = await Promise.all(Array.from({ length: 20 }, () => request(p.webPort, { path: '/slow', headers: { host: 'app.test' } })));
    const report = await bystanders.stop();
    for (const r of slow) assert.equal(r.status, 200);
    assert.deepEqual(report.failures, []);
    assert.ok(report.requests > 0);
  });
});
