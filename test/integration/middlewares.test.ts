// Middlewares on real sockets, configured as Traefik's documentation shows
// them: what the backend receives (path, headers, X-Forwarded-Prefix), what
// the client gets back (edited response headers, redirects, 403, CORS
// preflights answered by portero), labels and files alike, and bystanders on
// other routers unaffected.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import { request } from '../helpers/http.js';
import { startPortero, type TestPortero } from '../helpers/portero.js';
import { listenLocal } from '../helpers/streams.js';

interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
}

describe('middlewares through portero', () => {
  let backend: http.Server;
  let port = 0;
  let p: TestPortero;

  const config = (): DynamicConfig => ({
    http: {
      routers: {
        api: { rule: 'Host(`api.test`)', service: 's', middlewares: ['strip', 'secure'] },
        chained: { rule: 'Host(`chain.test`)', service: 's', middlewares: ['all'] },
        moved: { rule: 'Host(`moved.test`)', service: 's', middlewares: ['to-https'] },
        regex: { rule: 'Host(`old.test`)', service: 's', middlewares: ['rename'] },
        inside: { rule: 'Host(`inside.test`)', service: 's', middlewares: ['only-lan'] },
        outside: { rule: 'Host(`outside.test`)', service: 's', middlewares: ['only-ten'] },
        cors: { rule: 'Host(`cors.test`)', service: 's', middlewares: ['cors'] },
        plain: { rule: 'Host(`plain.test`)', service: 's' },
      },
      services: { s: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${port}` }] } } },
      middlewares: {
        strip: { stripPrefix: { prefixes: ['/api'] } },
        secure: {
          headers: {
            customRequestHeaders: { 'X-Script-Name': 'portero', 'X-Drop-Me': '' },
            customResponseHeaders: { 'X-Served-By': 'portero', 'X-Backend-Secret': '' },
            frameDeny: true,
            contentTypeNosniff: true,
            stsSeconds: 63072000,
            forceSTSHeader: true,
          },
        },
        all: { chain: { middlewares: ['strip', 'add', 'secure'] } },
        add: { addPrefix: { prefix: '/v2' } },
        'to-https': { redirectScheme: { scheme: 'https', permanent: true } },
        rename: { redirectRegex: { regex: '^http://old.test/(.*)', replacement: 'http://new.test/${1}' } },
        'only-lan': { ipAllowList: { sourceRange: ['127.0.0.1/32', '::1'] } },
        'only-ten': { ipWhiteList: { sourceRange: ['10.0.0.0/8'] } },
        cors: { headers: { accessControlAllowMethods: ['GET', 'OPTIONS', 'PUT'], accessControlAllowOriginList: ['https://app.example'], accessControlMaxAge: 100, addVaryHeader: true } },
      },
    },
  });

  before(async () => {
    backend = http.createServer((req, res) => {
      res.setHeader('X-Backend-Secret', 'leak');
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ url: req.url ?? '', headers: req.headers } satisfies Seen));
    });
    port = await listenLocal(backend);
    p = await startPortero(config(), { workers: 2 });
  });

  after(async () => {
    await p.stop();
    backend.close();
  });

  const seen = (body: string) => JSON.parse(body) as Seen;

  test('stripPrefix and headers: the backend sees the stripped path, X-Forwarded-Prefix and custom headers; the client the edited response', async () => {
    const r = await request(p.webPort, { path: '/api/users?id=1', headers: { host: 'api.test', 'x-drop-me': 'secret' } });
    assert.equal(r.status, 200);
    const s = seen(r.body);
    assert.equal(s.url, '/users?id=1');
    assert.equal(s.headers['x-forwarded-prefix'], '/api');
    assert.equal(s.headers['x-script-name'], 'portero');
    assert.equal(s.headers['x-drop-me'], undefined);
    assert.equal(r.headers['x-served-by'], 'portero');
    assert.equal(r.headers['x-backend-secret'], undefined);
    assert.equal(r.headers['x-frame-options'], 'DENY');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['strict-transport-security'], 'max-age=63072000');
  });

  test('a chain applies its members in order', async () => {
    const r = await request(p.webPort, { path: '/api/x', headers: { host: 'chain.test' } });
    assert.equal(seen(r.body).url, '/v2/x');
    assert.equal(r.headers['x-frame-options'], 'DENY');
  });

  test('redirectScheme and redirectRegex answer without reaching the backend', async () => {
    const a = await request(p.webPort, { path: '/p?q=1', headers: { host: 'moved.test' } });
    assert.deepEqual([a.status, a.headers.location], [301, 'https://moved.test/p?q=1']);
    const b = await request(p.webPort, { method: 'POST', path: '/form', headers: { host: 'moved.test' }, body: 'x=1' });
    assert.equal(b.status, 308);
    const c = await request(p.webPort, { path: '/a/b', headers: { host: 'old.test' } });
    assert.deepEqual([c.status, c.headers.location], [302, 'http://new.test/a/b']);
  });

  test('ipAllowList: loopback is let in, others get 403 Forbidden', async () => {
    assert.equal((await request(p.webPort, { headers: { host: 'inside.test' } })).status, 200);
    const denied = await request(p.webPort, { headers: { host: 'outside.test' } });
    assert.deepEqual([denied.status, denied.body], [403, 'Forbidden']);
    // An X-Forwarded-For from an untrusted client changes nothing.
    assert.equal((await request(p.webPort, { headers: { host: 'outside.test', 'x-forwarded-for': '10.1.1.1' } })).status, 403);
  });

  test('CORS: the preflight is answered by portero; an allowed origin gets its header; Vary carries Origin', async () => {
    const pre = await request(p.webPort, { method: 'OPTIONS', headers: { host: 'cors.test', origin: 'https://app.example', 'access-control-request-method': 'PUT' } });
    assert.equal(pre.status, 200);
    assert.equal(pre.headers['access-control-allow-methods'], 'GET,OPTIONS,PUT');
    assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(pre.headers['access-control-max-age'], '100');
    const simple = await request(p.webPort, { headers: { host: 'cors.test', origin: 'https://app.example' } });
    assert.equal(simple.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(simple.headers.vary, 'Origin');
    const other = await request(p.webPort, { headers: { host: 'cors.test', origin: 'https://evil.example' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });

  test('a router without middlewares is untouched', async () => {
    const r = await request(p.webPort, { path: '/api/x', headers: { host: 'plain.test' } });
    assert.equal(seen(r.body).url, '/api/x');
    assert.equal(r.headers['x-backend-secret'], 'leak');
    assert.equal(r.headers['x-frame-options'], undefined);
  });

  test('a bad middleware disables only the routers using it, with the reason in the API', async () => {
    const c = config();
    c.http.middlewares.secure = { headers: { customRequestHeaders: { 'X-Evil': 'a\r\nInjected: 1' } } };
    p.provider.set(c);
    const res = await fetch(`http://127.0.0.1:${p.apiPort}/api/http/routers/api@file`);
    const body = (await res.json()) as { status: string; error: string[] };
    assert.equal(body.status, 'disabled');
    assert.match(body.error[0]!, /customRequestHeaders.X-Evil must not contain CR, LF or NUL/);
    assert.equal((await request(p.webPort, { headers: { host: 'plain.test' } })).status, 200);
    assert.equal((await request(p.webPort, { path: '/api/x', headers: { host: 'chain.test' } })).status, 404, 'the chain uses it too');
    p.provider.set(config());
  });
});
