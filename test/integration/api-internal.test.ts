// Traefik's internal elements under --api.insecure, compared with the shapes
// Traefik's own integration goldens show for them (integration/testdata/
// rawdata-*.json in Traefik v3), and the `traefik` entry point routing by
// them: the redirect and the strip-prefix do what the API says they do.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from '../helpers/http.js';
import { startPortero, type TestPortero } from '../helpers/portero.js';
import { INTERNAL_MIDDLEWARES, INTERNAL_ROUTERS, INTERNAL_SERVICES, parseExact } from '../helpers/traefik-goldens.js';

const TRAEFIK_RAWDATA = { routers: INTERNAL_ROUTERS, middlewares: INTERNAL_MIDDLEWARES, services: INTERNAL_SERVICES };

describe('internal elements of the traefik entry point', () => {
  let p: TestPortero;

  before(async () => {
    // No ping: ping@internal has its own check below, with it on.
    p = await startPortero(
      { http: { routers: {}, services: {}, middlewares: {} } },
      { tweak: (c) => (c.ping = false) },
    );
  });
  after(() => p.stop());

  test("rawdata shows them as Traefik's goldens do, priorities exact", async () => {
    const r = await request(p.apiPort, { path: '/api/rawdata' });
    assert.equal(r.headers['content-type'], 'application/json');
    assert.match(r.body, /"priority":9223372036854775806[,}]/);
    const raw = parseExact(r.body) as typeof TRAEFIK_RAWDATA;
    assert.deepEqual(raw.routers, TRAEFIK_RAWDATA.routers);
    assert.deepEqual(raw.middlewares, TRAEFIK_RAWDATA.middlewares);
    assert.deepEqual(raw.services, TRAEFIK_RAWDATA.services);
  });

  test('representations: priorityStr exact, provider internal, types', async () => {
    const api = parseExact((await request(p.apiPort, { path: '/api/http/routers/api@internal' })).body) as Record<string, unknown>;
    assert.deepEqual([api.name, api.provider, api.priorityStr], ['api@internal', 'internal', '9223372036854775806']);
    const redirect = JSON.parse((await request(p.apiPort, { path: '/api/http/middlewares/dashboard_redirect%40internal' })).body);
    assert.equal(redirect.type, 'redirectregex');
    const noop = JSON.parse((await request(p.apiPort, { path: '/api/http/services/noop@internal' })).body);
    assert.deepEqual(noop, { status: 'enabled', name: 'noop@internal', provider: 'internal' });
  });

  test('dashboard_redirect@internal: the root is sent to /dashboard/ with an absolute URL, 301 (308 for a POST)', async () => {
    const get = await request(p.apiPort, { path: '/' });
    assert.deepEqual([get.status, get.headers.location], [301, `http://127.0.0.1:${p.apiPort}/dashboard/`]);
    const named = await request(p.apiPort, { path: '/', headers: { host: 'traefik.example:8080' } });
    assert.equal(named.headers.location, 'http://traefik.example:8080/dashboard/');
    const v6 = await request(p.apiPort, { path: '/', headers: { host: '[::1]:8080' } });
    assert.equal(v6.headers.location, 'http://[::1]:8080/dashboard/');
    const post = await request(p.apiPort, { path: '/', method: 'POST', body: 'x' });
    assert.equal(post.status, 308);
    // A query keeps the regex from matching: Traefik then serves the page as is.
    const query = await request(p.apiPort, { path: '/?x=1' });
    assert.equal(query.status, 200);
    assert.match(String(query.headers['content-type']), /text\/html/);
  });

  test('dashboard_stripprefix@internal: /dashboard/ files, 404 for others; /dashboard gets its slash', async () => {
    const page = await request(p.apiPort, { path: '/dashboard/' });
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.equal((await request(p.apiPort, { path: '/dashboard/dashboard.js' })).status, 200);
    assert.equal((await request(p.apiPort, { path: '/dashboard/nope.js' })).status, 404);
    // Everything not /api or /ping belongs to the dashboard router, as in Traefik.
    assert.equal((await request(p.apiPort, { path: '/elsewhere' })).status, 404);
    const bare = await request(p.apiPort, { path: '/dashboard' });
    assert.deepEqual([bare.status, bare.headers.location], [301, '/dashboard/']);
  });

  test('api@internal answers everything under /api', async () => {
    assert.equal((await request(p.apiPort, { path: '/api/version' })).status, 200);
    const unknown = await request(p.apiPort, { path: '/api/nothing' });
    assert.deepEqual([unknown.status, unknown.headers['content-type']], [404, 'application/json']);
  });
});

describe('ping@internal and the internal elements that come and go with the flags', () => {
  test('--ping: a router at the int64 maximum, PathPrefix(`/ping`), answering any path under it', async () => {
    const p = await startPortero({ http: { routers: {}, services: {}, middlewares: {} } });
    try {
      const ping = parseExact((await request(p.apiPort, { path: '/api/http/routers/ping@internal' })).body) as Record<string, unknown>;
      assert.deepEqual(
        [ping.rule, ping.priority, ping.service, ping.using],
        ['PathPrefix(`/ping`)', 9223372036854775807n, 'ping@internal', ['traefik']],
      );
      assert.deepEqual([(await request(p.apiPort, { path: '/ping' })).body, (await request(p.apiPort, { path: '/ping/x' })).body], ['OK', 'OK']);
    } finally {
      await p.stop();
    }
  });

  test('Traefik v1 flags (--api --docker): no internal routers, and / is v1\'s 302 to /dashboard/', async () => {
    const p = await startPortero(
      { http: { routers: {}, services: {}, middlewares: {} } },
      {
        tweak: (c) => {
          c.providers.swarm = { endpoint: 'unix:///nonexistent.sock', exposedByDefault: false, refreshSeconds: 1, defaultRule: 'Host(`{{ normalize .Name }}`)', watch: false, dialect: 'v1' };
        },
      },
    );
    try {
      const root = await request(p.apiPort, { path: '/' });
      assert.deepEqual([root.status, root.headers.location], [302, '/dashboard/']);
      assert.match(root.body, /^<a href="\/dashboard\/">Found<\/a>\./);
      assert.equal((await request(p.apiPort, { path: '/dashboard/' })).status, 200);
      assert.equal((await request(p.apiPort, { path: '/ping' })).body, 'OK');
      const raw = JSON.parse((await request(p.apiPort, { path: '/api/rawdata' })).body);
      assert.deepEqual(Object.keys(raw.routers ?? {}), []);
    } finally {
      await p.stop();
    }
  });

  test('--api.dashboard=false: no dashboard router, service or middlewares; / is 404', async () => {
    const p = await startPortero({ http: { routers: {}, services: {}, middlewares: {} } }, { tweak: (c) => (c.api.dashboard = false) });
    try {
      const raw = JSON.parse((await request(p.apiPort, { path: '/api/rawdata' })).body);
      assert.deepEqual(Object.keys(raw.routers).sort(), ['api@internal', 'ping@internal']);
      assert.deepEqual(Object.keys(raw.services).sort(), ['api@internal', 'noop@internal', 'ping@internal']);
      assert.equal(raw.middlewares, undefined);
      assert.equal((await request(p.apiPort, { path: '/' })).status, 404);
    } finally {
      await p.stop();
    }
  });
});
