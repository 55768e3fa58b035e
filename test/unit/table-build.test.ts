import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import type { RequestView } from '../../src/rules/types.js';
import { TablePublisher } from '../../src/table/publisher.js';
import { TableReader } from '../../src/shared/shared-table.js';
import { decodeTable } from '../../src/table/wire.js';
import type { LoadBalancerRuntime, WeightedRuntime } from '../../src/balancer/runtime.js';
import { PoolRegistry } from '../../src/worker/routes.js';
import { TableBuilder } from '../../src/worker/table-build.js';
import { createMiddlewareMemory, MiddlewareMemory } from '../../src/middlewares/shared-memory.js';

// Drives the real path: main-thread publisher -> shared buffer -> worker builder.
function setup() {
  const publisher = new TablePublisher({ entryPoints: ['web'], tableSlotBytes: 8 * 1024 * 1024 });
  const reader = new TableReader(publisher.tableBuffer);
  const pools = new PoolRegistry({ maxIdle: 1, maxConns: 0, dialTimeoutMs: 1000, idleTimeoutMs: 1000, maxHeadBytes: 1024, readTimeoutMs: 0, pipelining: 0, tls: { insecureSkipVerify: false, rootCAs: [] } });
  const builder = new TableBuilder(pools, new MiddlewareMemory(createMiddlewareMemory()));
  const load = (http: Partial<DynamicConfig['http']>) => {
    publisher.update('file', { http: { routers: {}, services: {}, middlewares: {}, ...http } });
    const next = reader.read();
    assert.ok(next, 'a new version was published');
    return { next, table: builder.buildNow(next.generation, next.bytes) };
  };
  return { publisher, reader, pools, builder, load };
}

const view = (host: string, path = '/'): RequestView => ({ method: 'GET', host, path, query: '', headers: {}, clientIp: '127.0.0.1' });
const lb = (...urls: string[]) => ({ loadBalancer: { servers: urls.map((url) => ({ url })) } });

function many(n: number, extra: DynamicConfig['http']['routers'] = {}) {
  const routers: DynamicConfig['http']['routers'] = { ...extra };
  const services: DynamicConfig['http']['services'] = {};
  for (let i = 0; i < n; i++) {
    routers[`r${i}`] = { rule: `Host(\`h${i}.test\`)`, service: `s${i}` };
    services[`s${i}`] = lb(`http://127.0.0.1:${1000 + (i % 4)}`);
  }
  return { routers, services };
}

test('the shared buffer carries one record per line, services named rather than indexed', () => {
  const { publisher, reader } = setup();
  publisher.update('file', { http: { routers: { a: { rule: 'Host(`a`)', service: 'w' } }, services: { w: { weighted: { services: [{ name: 'x', weight: 2 }] } }, x: lb('http://127.0.0.1:1') }, middlewares: {} } });
  const decoded = decodeTable(new TextDecoder().decode(reader.read()!.bytes));
  assert.deepEqual(decoded.header, { version: 1, services: 2, routers: 1 });
  assert.deepEqual(decoded.services.map((s) => s.name), ['w@file', 'x@file']);
  assert.deepEqual(decoded.services[0].kind === 'weighted' && decoded.services[0].children, ['x@file']);
  assert.equal(decoded.routers[0].service, 'w@file');
});

test('an unchanged router keeps its compiled matcher; a changed one is compiled again', () => {
  const { load } = setup();
  const first = load(many(100)).table;
  const before = first.match('web', view('h5.test'))!;
  const changed = many(100);
  changed.routers.r7 = { rule: 'Host(`seven.test`)', service: 's7' };
  const second = load(changed).table;
  const after = second.match('web', view('h5.test'))!;
  assert.equal(after.match, before.match, 'same compiled rule reused');
  assert.equal(after, before, 'and the same entry: nothing about it changed');
  assert.equal(second.match('web', view('h7.test')), null);
  assert.equal(second.match('web', view('seven.test'))?.name, 'r7@file');
  assert.equal(first.match('web', view('h7.test'))?.name, 'r7@file', 'the previous table is left as it was');
});

test('a service whose servers change gets a new load balancer; the others are reused', () => {
  const { load } = setup();
  const a = load(many(3)).table;
  const changed = many(3);
  changed.services.s1 = lb('http://127.0.0.1:2001', 'http://127.0.0.1:2002');
  const b = load(changed).table;
  const svc = (t: typeof a, host: string) => t.match('web', view(host))!.services[0] as LoadBalancerRuntime;
  assert.equal(svc(b, 'h0.test'), svc(a, 'h0.test'));
  assert.notEqual(svc(b, 'h1.test'), svc(a, 'h1.test'));
  assert.deepEqual(svc(b, 'h1.test').servers.map((s) => s.url), ['http://127.0.0.1:2001', 'http://127.0.0.1:2002']);
});

test('weighted services are relinked to their children\'s current load balancers', () => {
  const { load } = setup();
  const http = (port: number) => ({
    routers: { a: { rule: 'Host(`a`)', service: 'w' } },
    services: { w: { weighted: { services: [{ name: 'x' }, { name: 'y' }] } }, x: lb(`http://127.0.0.1:${port}`), y: lb('http://127.0.0.1:9') },
  });
  load(http(1));
  const w = load(http(2)).table.match('web', view('a'))!.services[0] as WeightedRuntime;
  assert.deepEqual(w.children.map((c) => (c as LoadBalancerRuntime).servers[0].url), ['http://127.0.0.1:2', 'http://127.0.0.1:9']);
});

test('twin routers (same rule, two stacks) fall back to each other', () => {
  const { load } = setup();
  const { table } = load({
    routers: { blue: { rule: 'Host(`app`)', service: 'b' }, green: { rule: 'Host(`app`)', service: 'g' } },
    services: { b: lb('http://127.0.0.1:1'), g: lb('http://127.0.0.1:2') },
  });
  assert.deepEqual(table.match('web', view('app'))!.services.map((s) => s.name), ['b@file', 'g@file']);
});

test('a router that gains a twin gets a fresh entry; the serving table is left untouched', () => {
  const { load } = setup();
  const services = { b: lb('http://127.0.0.1:1'), g: lb('http://127.0.0.1:2') };
  const first = load({ routers: { blue: { rule: 'Host(`app`)', service: 'b' } }, services }).table;
  const blue = first.match('web', view('app'))!;
  const second = load({ routers: { blue: { rule: 'Host(`app`)', service: 'b' }, green: { rule: 'Host(`app`)', service: 'g' } }, services }).table;
  assert.deepEqual(blue.services.map((s) => s.name), ['b@file'], 'the old entry is unchanged');
  assert.deepEqual(second.match('web', view('app'))!.services.map((s) => s.name), ['b@file', 'g@file']);
  const third = load({ routers: { blue: { rule: 'Host(`app`)', service: 'b' } }, services }).table;
  assert.deepEqual(third.match('web', view('app'))!.services.map((s) => s.name), ['b@file'], 'the twin gone, no fallback remains');
});

test('built in slices, a version equals the one built at once', () => {
  const { publisher, reader, pools } = setup();
  publisher.update('file', { http: { ...many(2000), middlewares: {} } });
  const next = reader.read()!;
  const build = new TableBuilder(pools, new MiddlewareMemory(createMiddlewareMemory())).begin(next.generation, next.bytes);
  let slices = 1;
  // A deadline already past: each step does the minimum batch of lines.
  while (!build.step(0)) slices++;
  assert.ok(slices > 10, `built over ${slices} slices`);
  const t = build.result!;
  assert.equal(t.version, next.generation);
  for (const i of [0, 999, 1999]) assert.equal(t.match('web', view(`h${i}.test`))?.name, `r${i}@file`);
  assert.equal(t.candidateCount('web', 'h5.test'), 1);
});

test('a malformed version throws and leaves what the builder reuses intact', () => {
  const { load, builder } = setup();
  const good = load(many(3)).table;
  const bad = Buffer.from('{"version":9,"services":1,"routers":1}\n{"kind":"lb","name":"x"');
  assert.throws(() => builder.buildNow(9, bad));
  assert.throws(() => builder.buildNow(9, Buffer.from('{"version":9,"services":2,"routers":0}')), /ends early/);
  const again = load(many(3, { extra: { rule: 'Host(`e`)', service: 's0' } })).table;
  assert.equal(again.match('web', view('h1.test'))!.match, good.match('web', view('h1.test'))!.match);
});

test('a worker drops pools no longer used by the table', () => {
  const { load, pools } = setup();
  load({ routers: { a: { rule: 'Host(`a`)', service: 's' } }, services: { s: lb('http://127.0.0.1:1', 'http://127.0.0.1:2') } });
  assert.equal([...pools.all()].length, 2);
  load({ routers: { a: { rule: 'Host(`a`)', service: 's' } }, services: { s: lb('http://127.0.0.1:2') } });
  assert.deepEqual([...pools.all()].map((p) => p.port), [2]);
});
