// Traefik's internal services behind routers: the dashboard and API as
// api@internal behind basicAuth (the pattern of Traefik's Swarm guides),
// ping@internal, and --api alone no longer serving them on the traefik
// entry point (only --api.insecure does, as in Traefik v2/v3).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { request } from '../helpers/http.js';
import { startPortero, type TestPortero } from '../helpers/portero.js';

describe('api@internal and ping@internal', () => {
  let p: TestPortero;
  const auth = `Basic ${Buffer.from('admin:pw').toString('base64')}`;

  before(async () => {
    p = await startPortero(
      {
        http: {
          routers: {
            dashboard: { rule: 'Host(`traefik.test`) && (PathPrefix(`/api`) || PathPrefix(`/dashboard`))', service: 'api@internal', middlewares: ['admin'] },
            health: { rule: 'Host(`traefik.test`) && Path(`/ping`)', service: 'ping@internal' },
          },
          services: {},
          middlewares: { admin: { basicAuth: { users: [`admin:{SHA}${createHash('sha1').update('pw').digest('base64')}`] } } },
        },
      },
      { tweak: (c) => (c.api = { enabled: true, insecure: false, dashboard: true }) },
    );
  });

  after(() => p.stop());

  test('the API behind basicAuth: 401 without credentials, Traefik API shapes with them', async () => {
    assert.equal((await request(p.webPort, { path: '/api/http/routers', headers: { host: 'traefik.test' } })).status, 401);
    const r = await request(p.webPort, { path: '/api/http/routers', headers: { host: 'traefik.test', authorization: auth } });
    assert.equal(r.status, 200);
    const routers = JSON.parse(r.body) as { name: string; service: string; status: string }[];
    assert.deepEqual(
      routers.map((x) => [x.name, x.service, x.status]),
      [
        ['dashboard@file', 'api@internal', 'enabled'],
        ['health@file', 'ping@internal', 'enabled'],
        // Traefik's own router for --ping, on the traefik entry point.
        ['ping@internal', 'ping@internal', 'enabled'],
      ],
    );
    const dash = await request(p.webPort, { path: '/dashboard/', headers: { host: 'traefik.test', authorization: auth } });
    assert.equal(dash.status, 200);
    assert.match(String(dash.headers['content-type']), /text\/html/);
  });

  test('ping@internal answers OK through its router', async () => {
    const r = await request(p.webPort, { path: '/ping', headers: { host: 'traefik.test' } });
    assert.deepEqual([r.status, r.body], [200, 'OK']);
  });

  test('--api without --api.insecure: the traefik entry point serves ping, not the API', async () => {
    assert.equal((await request(p.apiPort, { path: '/ping' })).status, 200);
    assert.equal((await request(p.apiPort, { path: '/api/http/routers' })).status, 404);
  });
});
