// The Swarm provider against a stand-in Docker API on loopback (tcp://
// endpoint, as behind a socket proxy): it reads services, tasks and
// networks, resyncs on events, and keeps the last configuration while the
// API is gone, coming back within 2 s after it returns.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import { SwarmClient } from '../../src/providers/swarm/client.js';
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
    const from = emits;
    await until('three more syncs', () => emits >= from + 3, 5000);
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
    const names = async () => (await client.snapshot()).services[0]!.tasks.map((t) => t.name);
    assert.deepEqual(await names(), ['whoami_whoami.1', 'whoami_whoami.2']);
    state.global = true;
    assert.deepEqual(await names(), ['whoami_whoami.task0', 'whoami_whoami.task1']);
  } finally {
    server.close();
    server.closeAllConnections();
  }
});
