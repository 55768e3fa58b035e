import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import type { RequestView } from '../../src/rules/types.js';
import { compileTable } from '../../src/table/compile.js';
import { LoadBalancerCompiler } from '../../src/table/load-balancers.js';
import { SlotAllocator, SlotPool } from '../../src/shared/slots.js';
import { encodeTable } from '../../src/table/wire.js';
import { PoolRegistry } from '../../src/worker/routes.js';
import { TableBuilder } from '../../src/worker/table-build.js';
import { createMiddlewareMemory, MiddlewareMemory } from '../../src/middlewares/shared-memory.js';

function compile(providers: Record<string, DynamicConfig['http']>, entryPoints = ['web']) {
  const services = new SlotAllocator(1000);
  return compileTable({
    providers: new Map(Object.entries(providers).map(([k, http]) => [k, { http }])),
    entryPoints,
    loadBalancers: new LoadBalancerCompiler(new SlotPool(1000)),
    serviceSlots: (k) => services.assign(k),
  });
}

const http = (p: Partial<DynamicConfig['http']>): DynamicConfig['http'] => ({ routers: {}, services: {}, middlewares: {}, ...p });
const lb = (...urls: string[]) => ({ loadBalancer: { servers: urls.map((url) => ({ url })) } });
const view = (host: string, path = '/'): RequestView => ({ method: 'GET', host, path, query: '', headers: {}, clientIp: '127.0.0.1' });
const pools = () => new PoolRegistry({ maxIdle: 1, maxConns: 0, dialTimeoutMs: 1000, idleTimeoutMs: 1000, maxHeadBytes: 1024, readTimeoutMs: 0, pipelining: 0, tls: { insecureSkipVerify: false, rootCAs: [] } });
/** The worker's table for a compiled spec, through the same encoding the shared buffer carries. */
const tableOf = (spec: ReturnType<typeof compile>['spec']) => new TableBuilder(pools(), new MiddlewareMemory(createMiddlewareMemory())).buildNow(1, Buffer.from(encodeTable(1, spec)));

test('names are qualified by provider; routers reach services across providers with @', () => {
  const c = compile({
    file: http({ routers: { a: { rule: 'Host(`a`)', service: 'svc' }, b: { rule: 'Host(`b`)', service: 'other@swarm' } }, services: { svc: lb('http://127.0.0.1:1') } }),
    swarm: http({ services: { other: lb('http://127.0.0.1:2') } }),
  });
  assert.deepEqual(c.errors, []);
  assert.deepEqual(c.spec.routers.map((r) => r.name), ['a@file', 'b@file']);
  assert.equal(c.spec.services[c.spec.routers[1].service].name, 'other@swarm');
});

test('each bad element is disabled with a named error while the rest is kept', () => {
  const c = compile({
    file: http({
      routers: {
        badrule: { rule: 'Host(`a`', service: 'svc' },
        noservice: { rule: 'Host(`b`)', service: 'missing' },
        badep: { rule: 'Host(`c`)', service: 'svc', entryPoints: ['nope'] },
        mw: { rule: 'Host(`d`)', service: 'svc', middlewares: ['auth'] },
        good: { rule: 'Host(`e`)', service: 'svc' },
      },
      services: { svc: lb('http://127.0.0.1:1'), badurl: lb('ftp://x') },
      middlewares: { auth: { plugin: { demo: {} } } },
    }),
  });
  const byName = new Map(c.errors.map((e) => [e.element!.name, e.message]));
  assert.match(byName.get('badrule@file')!, /invalid rule .*position/);
  assert.match(byName.get('noservice@file')!, /unknown service "missing@file"/);
  assert.equal(byName.get('badep@file'), 'no valid entryPoint for this router');
  assert.match(byName.get('mw@file')!, /middleware "auth@file" \(plugin\) is not supported yet/);
  assert.match(byName.get('badurl@file')!, /must be http:\/\/ or https:\/\//);
  assert.deepEqual(c.spec.routers.map((r) => r.name), ['good@file']);
  assert.equal(c.routerStatus.get('good@file')!.status, 'enabled');
  assert.equal(c.routerStatus.get('badrule@file')!.status, 'disabled');
});

test("an entry point that does not exist is a warning: the router serves on the others; with none left it is disabled, as in Traefik", () => {
  const c = compile(
    {
      file: http({
        routers: {
          partly: { rule: 'Host(`a`)', service: 'svc', entryPoints: ['web', 'nope', 'admin', 'nope'] },
          nowhere: { rule: 'Host(`b`)', service: 'svc', entryPoints: ['nope', 'gone'] },
          partlybad: { rule: 'Host(`c`', service: 'svc', entryPoints: ['web', 'nope'] },
          ok: { rule: 'Host(`d`)', service: 'svc', entryPoints: ['web'] },
        },
        services: { svc: lb('http://127.0.0.1:1') },
      }),
    },
    ['web', 'admin'],
  );
  assert.deepEqual(c.spec.routers.map((r) => [r.name, r.entryPoints]), [
    ['ok@file', ['web']],
    ['partly@file', ['web', 'admin']],
  ]);
  assert.deepEqual(c.routerStatus.get('partly@file'), { status: 'warning', errors: ['entryPoint "nope" doesn\'t exist'] });
  assert.deepEqual(c.routerStatus.get('ok@file'), { status: 'enabled', errors: [] });
  assert.deepEqual(c.routerStatus.get('nowhere@file'), {
    status: 'disabled',
    errors: ['entryPoint "nope" doesn\'t exist', 'entryPoint "gone" doesn\'t exist', 'no valid entryPoint for this router'],
  });
  // Checked before the rule, as Traefik looks up entry points before it builds the router.
  const bad = c.routerStatus.get('partlybad@file')!;
  assert.equal(bad.status, 'disabled');
  assert.equal(bad.errors[0], 'entryPoint "nope" doesn\'t exist');
  assert.match(bad.errors[1]!, /invalid rule/);
  // The configuration keeps what was written; the warnings are marked so and name their router.
  assert.deepEqual(c.configs.routers.get('partly@file')!.entryPoints, ['web', 'nope', 'admin', 'nope']);
  assert.deepEqual(
    c.errors.filter((e) => e.element!.name === 'partly@file'),
    [{ provider: 'file', element: { kind: 'router', name: 'partly@file' }, message: 'entryPoint "nope" doesn\'t exist', level: 'warning' }],
  );
  assert.equal(c.errors.filter((e) => e.element!.name === 'nowhere@file' && e.level === undefined).length, 1);
  const table = tableOf(c.spec);
  assert.equal(table.match('web', view('a'))?.name, 'partly@file');
  assert.equal(table.match('admin', view('a'))?.name, 'partly@file');
});

test('weighted services resolve their children; cycles and unknown children are errors', () => {
  const c = compile({
    file: http({
      services: {
        blue: lb('http://127.0.0.1:1'),
        green: lb('http://127.0.0.1:2'),
        bg: { weighted: { services: [{ name: 'blue', weight: 3 }, { name: 'green', weight: 1 }] } },
        loop1: { weighted: { services: [{ name: 'loop2' }] } },
        loop2: { weighted: { services: [{ name: 'loop1' }] } },
        orphan: { weighted: { services: [{ name: 'nothing' }] } },
      },
    }),
  });
  const bg = c.spec.services.find((s) => s.name === 'bg@file');
  assert.ok(bg && bg.kind === 'weighted');
  assert.deepEqual(bg.children.map((i) => c.spec.services[i].name), ['blue@file', 'green@file']);
  assert.equal(bg.order.filter((i) => i === 0).length, 3);
  assert.ok(c.errors.some((e) => e.element!.name === 'loop1@file' && /cycle/.test(e.message)));
  assert.ok(c.errors.some((e) => e.element!.name === 'orphan@file' && /unknown service/.test(e.message)));
});

test('priority: explicit, else the rule length; the longer rule wins by default', () => {
  const c = compile({
    file: http({
      routers: {
        short: { rule: 'PathPrefix(`/`)', service: 's' },
        long: { rule: 'PathPrefix(`/api`)', service: 's' },
        pinned: { rule: 'PathPrefix(`/`)', service: 's', priority: 1 },
      },
      services: { s: lb('http://127.0.0.1:1') },
    }),
  });
  const prio = Object.fromEntries(c.spec.routers.map((r) => [r.name, r.priority]));
  assert.deepEqual(prio, { 'long@file': 18, 'pinned@file': 1, 'short@file': 15 });
  const table = tableOf(c.spec);
  assert.equal(table.match('web', view('x', '/api/v1'))?.name, 'long@file');
  assert.equal(table.match('web', view('x', '/other'))?.name, 'short@file');
});

test('host routers and generic routers merge by priority', () => {
  const c = compile({
    file: http({
      routers: {
        host: { rule: 'Host(`a.com`)', service: 's' },
        catchall: { rule: 'PathPrefix(`/`)', service: 's', priority: 1000 },
        low: { rule: 'PathPrefix(`/`)', service: 's', priority: 1 },
      },
      services: { s: lb('http://127.0.0.1:1') },
    }),
  });
  const table = tableOf(c.spec);
  assert.equal(table.match('web', view('a.com'))?.name, 'catchall@file');
  assert.equal(table.match('web', view('b.com'))?.name, 'catchall@file');
  assert.equal(table.match('other', view('a.com')), null);
});

test('10,000 Host routers: a request is tested against its own host bucket only', () => {
  const routers: DynamicConfig['http']['routers'] = {};
  for (let i = 0; i < 10_000; i++) routers[`r${i}`] = { rule: `Host(\`host${i}.example.com\`)`, service: 's' };
  const c = compile({ file: http({ routers, services: { s: lb('http://127.0.0.1:1') } }) });
  assert.equal(c.spec.routers.length, 10_000);
  const table = tableOf(c.spec);
  assert.equal(table.candidateCount('web', 'host7777.example.com'), 1);
  assert.equal(table.candidateCount('web', 'unknown.example.com'), 0);
  assert.equal(table.match('web', view('host7777.example.com'))?.name, 'r7777@file');
  assert.equal(table.match('web', view('host10000.example.com')), null);
});

test('load balancers: servers keep their slots while their service changes around them', () => {
  const busy = new Set<number>();
  const lbc = new LoadBalancerCompiler(new SlotPool(10, (s) => !busy.has(s)));
  const round = (services: Record<string, string[]>) => {
    lbc.begin();
    for (const [name, urls] of Object.entries(services)) assert.deepEqual(lbc.compile(name, { servers: urls.map((url) => ({ url })) }), []);
    lbc.end();
    return Object.fromEntries(Object.keys(services).map((name) => [name, lbc.spec(name, 0).servers.map((s) => s.slot)]));
  };
  assert.deepEqual(round({ a: ['http://h:1', 'http://h:2'], b: ['http://h:3'] }), { a: [0, 1], b: [2] });
  const unchanged = lbc.spec('a', 0);
  assert.equal(round({ a: ['http://h:1', 'http://h:2'], b: ['http://h:3'] }) && lbc.spec('a', 0), unchanged, 'an unchanged service keeps its spec object');
  busy.add(1);
  // Scaled: h:2 leaves (busy: its slot waits), h:4 arrives; h:1 keeps slot 0.
  assert.deepEqual(round({ a: ['http://h:1', 'http://h:4'], b: ['http://h:3'] }).a, [0, 3]);
  // b removed: slot 2 is released; once quiet, slots are reused.
  busy.clear();
  assert.deepEqual(round({ a: ['http://h:1', 'http://h:4'] }), { a: [0, 3] });
  assert.deepEqual(round({ a: ['http://h:1', 'http://h:4'], c: ['http://h:5', 'http://h:6'] }).c.sort(), [1, 2]);
  lbc.begin();
  assert.match(lbc.compile('bad', { servers: [{ url: 'ftp://x' }] })[0], /must be http:\/\/ or https:\/\//);
});

test('servers transports: a service names one of any provider; an unknown or unreadable one disables that service only', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
  const tls = (transport: string) => ({ loadBalancer: { servers: [{ url: 'https://10.0.0.1:8443' }], serversTransport: transport } });
  const c = compile({
    file: http({
      serversTransports: { internal: { serverName: 'api.internal', rootCAs: [pem] }, broken: { rootCAs: ['/nonexistent/ca.pem'] } },
      services: { ok: tls('internal'), unknown: tls('nope'), unreadable: tls('broken') },
    }),
    swarm: http({ services: { fromLabels: tls('internal@file') } }),
  });
  const byName = new Map(c.errors.map((e) => [e.element!.name, e.message]));
  assert.match(byName.get('unknown@file')!, /unknown servers transport "nope@file"/);
  assert.match(byName.get('unreadable@file')!, /servers transport "broken@file": cannot read rootCAs file "\/nonexistent\/ca.pem": ENOENT/);
  const specs = new Map(c.spec.services.map((s) => [s.name, s]));
  for (const name of ['ok@file', 'fromLabels@swarm']) {
    const s = specs.get(name);
    assert.ok(s !== undefined && s.kind === 'lb', name);
    assert.deepEqual(s.transport, { name: 'internal@file', serverName: 'api.internal', insecureSkipVerify: false, rootCAs: [pem], pipelining: null });
    assert.equal(s.servers[0].tls, true);
    assert.equal(s.servers[0].port, 8443);
  }
});

test("pipelining per service: a servers transport's depth, a Swarm service's label winning over it, else the static setting", () => {
  const lb = (extra: object) => ({ loadBalancer: { servers: [{ url: 'http://10.0.0.1:80' }], ...extra } });
  const c = compile({
    file: http({
      serversTransports: { piped: { pipelining: 8 } },
      services: { viaTransport: lb({ serversTransport: 'piped' }), plain: lb({}) },
    }),
    swarm: http({ services: { labelled: lb({ serversTransport: 'piped@file', pipelining: 4 }), off: lb({ pipelining: 0 }) } }),
  });
  assert.deepEqual(c.errors, []);
  const depth = new Map(c.spec.services.map((s) => [s.name, s.kind === 'lb' ? s.pipelining : undefined]));
  assert.deepEqual(Object.fromEntries(depth), { 'viaTransport@file': 8, 'plain@file': null, 'labelled@swarm': 4, 'off@swarm': 0 });
});
