// Traefik's internal provider as portero builds it: which elements each flag
// brings, their order, the dashboard's redirect and strip-prefix, and the
// exact int64 priorities in JSON.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dashboardRedirect, dashboardStripPrefix, Int64, internalElements, matchInternal, unwrapInt64 } from '../../src/api/internal.js';

const ALL = { api: true, insecure: true, dashboard: true, ping: 'traefik', metrics: 'traefik' };

test('--api.insecure with ping and metrics: five routers, highest priority first', () => {
  const e = internalElements(ALL);
  assert.deepEqual(
    e.routers.map((r) => [r.name, r.prefix, r.priority]),
    [
      ['ping@internal', '/ping', '9223372036854775807'],
      ['prometheus@internal', '/metrics', '9223372036854775807'],
      ['api@internal', '/api', '9223372036854775806'],
      ['dashboard@internal', '/', '9223372036854775805'],
    ],
  );
  assert.deepEqual(e.services, ['api@internal', 'dashboard@internal', 'noop@internal', 'ping@internal', 'prometheus@internal']);
  assert.deepEqual([...e.middlewares.keys()], ['dashboard_redirect@internal', 'dashboard_stripprefix@internal']);
});

test('--api alone: the api@internal service for routers, no router of its own; noop@internal always', () => {
  const e = internalElements({ api: true, insecure: false, dashboard: true, ping: null, metrics: null });
  assert.deepEqual(e.routers, []);
  assert.deepEqual(e.services, ['api@internal', 'dashboard@internal', 'noop@internal']);
  assert.equal(e.middlewares.size, 0);
  assert.deepEqual(internalElements({ api: false, insecure: false, dashboard: true, ping: null, metrics: null }).services, ['noop@internal']);
});

test('a metrics entry point of its own gets the prometheus router, not the traefik one', () => {
  const e = internalElements({ ...ALL, metrics: 'metrics' });
  assert.equal(e.routers.find((r) => r.name === 'prometheus@internal')!.entryPoint, 'metrics');
});

test('routing: the first router whose prefix matches, by priority', () => {
  const routers = internalElements(ALL).routers.filter((r) => r.entryPoint === 'traefik');
  assert.equal(matchInternal(routers, '/ping')!.service, 'ping');
  assert.equal(matchInternal(routers, '/pingz')!.service, 'ping');
  assert.equal(matchInternal(routers, '/api/version')!.service, 'api');
  assert.equal(matchInternal(routers, '/metrics')!.service, 'prometheus');
  assert.equal(matchInternal(routers, '/dashboard/')!.service, 'dashboard');
  assert.equal(matchInternal(routers, '/anything')!.service, 'dashboard');
  const noDashboard = internalElements({ ...ALL, dashboard: false }).routers;
  assert.equal(matchInternal(noDashboard, '/anything'), undefined);
});

test("dashboard_redirect@internal: Traefik's regex on the request's http URL", () => {
  assert.equal(dashboardRedirect('127.0.0.1:8080', '/'), 'http://127.0.0.1:8080/dashboard/');
  assert.equal(dashboardRedirect('traefik.example', '/'), 'http://traefik.example/dashboard/');
  assert.equal(dashboardRedirect('[::1]:8080', '/'), 'http://[::1]:8080/dashboard/');
  assert.equal(dashboardRedirect('host', '/?a=1'), null);
  assert.equal(dashboardRedirect('host', '/x'), null);
  assert.equal(dashboardRedirect('bad host', '/'), null);
});

test('dashboard_stripprefix@internal: the first matching prefix goes, a leading slash stays', () => {
  assert.equal(dashboardStripPrefix('/dashboard/'), '/');
  assert.equal(dashboardStripPrefix('/dashboard/dashboard.js'), '/dashboard.js');
  assert.equal(dashboardStripPrefix('/dashboard'), '/');
  assert.equal(dashboardStripPrefix('/dashboardx'), '/x');
  assert.equal(dashboardStripPrefix('/other'), '/other');
});

test('Int64 is written as its exact digits; other strings are left alone', () => {
  const text = JSON.stringify({ priority: new Int64('9223372036854775806'), name: 'int64:5', other: 'x' });
  assert.equal(unwrapInt64(text), '{"priority":9223372036854775806,"name":"int64:5","other":"x"}');
  assert.equal(String(new Int64('42')), '42');
});
