// The Swarm provider against a stand-in Docker API on loopback (tcp://
// endpoint, as behind a socket proxy): it reads services, tasks and
// networks, resyncs on events, and keeps the last configuration while the
// API is gone, coming back within 2 s after it returns.
import assert from 'node:assert/strict';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import { SwarmClient, sinceAfter } from '../../src/providers/swarm/client.js';
import { SwarmProvider } from '../../src/providers/swarm/provider.js';
import { fakeDocker, type FakeState } from '../helpers/fake-docker.js';

test('Swarm provider over tcp://: reads, follows events, survives the API going away', async () => {
  const state: FakeState = { replicas: ['10.0.9.5', '10.0.9.6'], rule: 'Host:whoami.docker.localhost', down: false, requests: [], events: [] };
  const server = fakeDocker(state);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  let latest: DynamicConfig | null = null;
  let emits = 0;
  const logged: string[] = [];
  const provider = new SwarmProvider(
    { endpoint: `tcp://127.0.0.1:${port}`, exposedByDefault: false, defaultRule: 'Host(`{{ normalize .Name }}`)', refreshSeconds: 1, watch: true },
    pino({ level: 'warn' }, { write: (line: string) => void logged.push(line) }),
  );
  const servers = () => (latest?.http.services['whoami-whoami']?.loadBalancer?.servers ?? []).map((s) => s.url);
  const until = async (what: string, fn: () => boolean, ms: number) => {
    const start = Date.now();
    while (!fn()) {
      if (Date.now() - start > ms) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return Date.now() - start;
  };
  try {
    await provider.start((c) => {
      latest = c;
      emits++;
    });
    assert.deepEqual(servers(), ['http://10.0.9.5:80', 'http://10.0.9.6:80']);
    assert.equal(Object.values(latest!.http.routers)[0].rule, 'Host:whoami.docker.localhost');
    assert.ok(state.requests.every((r) => r.startsWith('GET ')), 'only GET requests: fits a read-only socket proxy');

    // Tasks are polled.
    state.replicas = ['10.0.9.5', '10.0.9.6', '10.0.9.7'];
    await until('the third replica', () => servers().length === 3, 2000);

    // A warning (a network label naming a network the service is not on) is logged when it appears, not on every sync.
    state.labels = { 'traefik.docker.network': 'elsewhere' };
    const polls = () => state.requests.filter((r) => r === 'GET /services').length;
    const from = polls();
    await until('three more polls', () => polls() >= from + 3, 5000);
    assert.equal(logged.filter((l) => l.includes('is not attached to the service')).length, 1, logged.join(''));
    delete state.labels;

    // A service event triggers a sync at once, well before the next 1 s poll.
    await until('the events stream', () => state.events.length > 0, 2000);
    state.rule = 'Host:renamed.localhost';
    for (const ev of state.events) ev.write(JSON.stringify({ Type: 'service', Action: 'update', Actor: { ID: 'svc1' } }) + '\n');
    await until('the new rule', () => Object.values(latest!.http.routers)[0].rule === 'Host:renamed.localhost', 300);

    // The API goes away: nothing is emitted, the last configuration stands, nothing crashes.
    state.down = true;
    for (const ev of state.events.splice(0)) ev.destroy();
    const before = emits;
    await until('the provider to notice', () => !provider.status.reachable, 3000);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(emits, before, 'no configuration emitted while the API is down');
    assert.equal(servers().length, 3);
    assert.ok(provider.status.lastError);

    // It comes back: picked up within 2 s.
    state.replicas = ['10.0.9.8'];
    state.down = false;
    const took = await until('recovery', () => servers().length === 1, 2500);
    assert.ok(provider.status.reachable);
    console.log(`# Docker API back: configuration current again after ${took} ms`);
  } finally {
    provider.stop();
    for (const ev of state.events) ev.destroy();
    server.close();
    server.closeAllConnections();
  }
});

test("tasks are named as Traefik names a Swarm task's container: <service>.<slot>, or <service>.<task ID> for a global service", async () => {
  const state: FakeState = { replicas: ['10.0.9.5', '10.0.9.6'], rule: 'Host:a', down: false, requests: [], events: [] };
  const server = fakeDocker(state);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const client = new SwarmClient(`tcp://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const names = async () => (await client.snapshot())!.services[0]!.tasks.map((t) => t.name);
    assert.deepEqual(await names(), ['whoami_whoami.1', 'whoami_whoami.2']);
    state.global = true;
    assert.deepEqual(await names(), ['whoami_whoami.task0', 'whoami_whoami.task1']);
  } finally {
    server.close();
    server.closeAllConnections();
  }
});

test('the events stream stays open through a quiet cluster, and a reconnection asks for what it missed instead of syncing everything', async () => {
  const state: FakeState = { replicas: ['10.0.9.5'], rule: 'Host:a', down: false, requests: [], events: [], eventLog: [], eventSince: [] };
  const server = fakeDocker(state);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  // A long poll interval: every sync below comes from an event.
  const provider = new SwarmProvider(
    { endpoint: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`, exposedByDefault: false, defaultRule: 'Host(`{{ normalize .Name }}`)', refreshSeconds: 60, watch: true },
    pino({ level: 'silent' }),
  );
  const syncs = () => state.requests.filter((r) => r === 'GET /services').length;
  const until = async (what: string, fn: () => boolean, ms: number) => {
    const end = Date.now() + ms;
    while (!fn()) {
      if (Date.now() > end) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  // Real engine times: beyond a double's exact integers, so portero must read them exactly.
  let t = 1_764_000_000_000_000_001n;
  // Each event names its own service, so the reads each one brings can be told apart.
  const event = (service: string, res?: http.ServerResponse) => {
    t += 1_000_123n;
    const line = `{"Type":"service","Action":"update","Actor":{"ID":"${service}"},"time":${t / 1_000_000_000n},"timeNano":${t}}`;
    state.eventLog!.push({ timeNano: t, line });
    res?.write(line + '\n');
    return t;
  };
  assert.equal(sinceAfter(1_764_000_000_999_999_999n), '1764000001.000000000');
  try {
    await provider.start(() => {});
    await until('the events stream', () => state.events.length === 1, 2000);
    // Longer than dockerode's 10 s request timeout, which used to cut the silent stream.
    await new Promise((r) => setTimeout(r, 11_000));
    assert.equal(state.eventSince!.length, 1, 'one events request in 11 quiet seconds');
    assert.equal(state.events[0]!.destroyed, false);

    // An event is followed by reads of the service it names, not by a full sync.
    const reads = (service: string) => state.requests.filter((r) => r === `GET /services/${service}`).length;
    const fullSyncs = syncs();
    const t1 = event('svc1', state.events[0]);
    await until('the read an event brings', () => reads('svc1') > 0, 2000);

    // The stream drops; an event happens meanwhile. The reconnection asks for what came after t1 and gets it.
    state.events.shift()!.destroy();
    event('svc2');
    await until('the reconnection', () => state.events.length === 1, 3000);
    assert.equal(state.eventSince!.at(-1), sinceAfter(t1));
    await until('the read the missed event brings', () => reads('svc2') > 0, 2000);

    // Dropped again with nothing missed: no event replayed.
    state.events.shift()!.destroy();
    await until('the second reconnection', () => state.events.length === 1, 3000);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(state.requests.filter((r) => r.startsWith('GET /services/') && r !== 'GET /services/svc1' && r !== 'GET /services/svc2').length, 0);
    assert.equal(syncs(), fullSyncs, 'no full sync for events or reconnections');
  } finally {
    provider.stop();
    for (const ev of state.events) ev.destroy();
    server.close();
    server.closeAllConnections();
  }
});
