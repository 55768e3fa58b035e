// buildSwarmConfig keeps what each Swarm service gives between calls and reads
// a service again only when its object is replaced or the options change. These
// tests check that the kept results never leak into each other: the output of
// each call is what a build from nothing gives.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildSwarmConfig } from '../../src/providers/swarm/labels.js';
import type { SwarmProviderOptions, SwarmService } from '../../src/providers/swarm/model.js';

const OPTIONS: SwarmProviderOptions = { exposedByDefault: false, defaultRule: 'Host(`{{ normalize .Name }}`)' };

function service(name: string, labels: Record<string, string>, ips: string[]): SwarmService {
  return {
    id: `id-${name}`,
    name,
    labels,
    networks: ['net'],
    vips: {},
    tasks: ips.map((ip, i) => ({ id: `${name}-${i}`, name: `${name}.${i + 1}`, addresses: { net: [ip] } })),
  };
}

/** The same services as new objects: what a build that keeps nothing sees. */
function fresh(services: SwarmService[]): SwarmService[] {
  return structuredClone(services);
}

function both(services: SwarmService[], options: SwarmProviderOptions = OPTIONS) {
  const kept = buildSwarmConfig({ services, ownNetworks: null }, options);
  const scratch = buildSwarmConfig({ services: fresh(services), ownNetworks: null }, { ...options });
  assert.deepEqual(kept, scratch);
  return kept;
}

const SHARED = { 'traefik.enable': 'true', 'traefik.http.services.shared.loadbalancer.server.port': '80', 'traefik.http.routers.shared.rule': 'Host(`s.test`)' };

describe('a Swarm service is built once and merged on every sync', () => {
  test('pooling two Swarm services into one HTTP service leaves each service kept as it was', () => {
    const blue = service('blue', SHARED, ['10.0.0.2', '10.0.0.3']);
    const green = service('green', SHARED, ['10.0.0.4']);
    const first = both([blue, green]);
    assert.deepEqual(first.config.http.services.shared!.loadBalancer!.servers.map((s) => s.url), ['http://10.0.0.2:80', 'http://10.0.0.3:80', 'http://10.0.0.4:80']);
    // Green goes away: blue's servers alone, not blue's with green's pooled in by the last merge.
    const second = both([blue]);
    assert.deepEqual(second.config.http.services.shared!.loadBalancer!.servers.map((s) => s.url), ['http://10.0.0.2:80', 'http://10.0.0.3:80']);
    const third = both([green, blue]);
    assert.deepEqual(third.config, first.config);
  });

  test('a replaced service object is read again; the others are reused as they were', () => {
    const a = service('a', { 'traefik.enable': 'true', 'traefik.http.services.a.loadbalancer.server.port': '80' }, ['10.0.0.2']);
    const b = service('b', { 'traefik.enable': 'true', 'traefik.http.services.b.loadbalancer.server.port': '80' }, ['10.0.0.3']);
    const first = both([a, b]);
    const b2 = service('b', { 'traefik.enable': 'true', 'traefik.http.services.b.loadbalancer.server.port': '80' }, ['10.0.0.3', '10.0.0.9']);
    const second = both([a, b2]);
    assert.equal(second.config.http.services.a, first.config.http.services.a, 'a was not built again');
    assert.deepEqual(second.config.http.services.b!.loadBalancer!.servers.map((s) => s.url), ['http://10.0.0.3:80', 'http://10.0.0.9:80']);
  });

  test('other options build every service again', () => {
    const a = service('a', { 'traefik.http.services.a.loadbalancer.server.port': '80' }, ['10.0.0.2']);
    assert.deepEqual(both([a]).config.http.routers, {});
    const exposed = both([a], { ...OPTIONS, exposedByDefault: true });
    assert.equal(exposed.config.http.routers.a!.rule, 'Host(`a`)');
    const otherRule = both([a], { ...OPTIONS, exposedByDefault: true, defaultRule: 'Host(`{{ .Name }}.example.com`)' });
    assert.equal(otherRule.config.http.routers.a!.rule, 'Host(`a.example.com`)');
  });

  test("portero's own networks count: a network that was shared is no longer chosen once portero leaves it", () => {
    const labels = { 'traefik.enable': 'true', 'traefik.http.services.a.loadbalancer.server.port': '80' };
    const a: SwarmService = { ...service('a', labels, []), networks: ['front', 'back'], tasks: [{ id: 't', name: 'a.1', addresses: { front: ['10.1.0.2'], back: ['10.2.0.2'] } }] };
    const onBack = buildSwarmConfig({ services: [a], ownNetworks: ['back'] }, OPTIONS);
    assert.deepEqual(onBack.config.http.services.a!.loadBalancer!.servers, [{ url: 'http://10.2.0.2:80' }]);
    const onFront = buildSwarmConfig({ services: [a], ownNetworks: ['front'] }, OPTIONS);
    assert.deepEqual(onFront.config.http.services.a!.loadBalancer!.servers, [{ url: 'http://10.1.0.2:80' }]);
  });

  test('errors and warnings are given again on every sync, not only when first built', () => {
    const bad = service('bad', { 'traefik.enable': 'true', 'traefik.http.services.bad.loadbalancer.server.port': 'eighty', 'traefik.frontend.rule': 'Host:x' }, ['10.0.0.2']);
    const first = both([bad]);
    assert.ok(first.errors.length > 0);
    assert.ok(first.warnings.length > 0);
    const second = both([bad]);
    assert.deepEqual(second.errors, first.errors);
    assert.deepEqual(second.warnings, first.warnings);
    assert.deepEqual(second.notices, first.notices);
  });
});
