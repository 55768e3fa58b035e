// Discovery at a smaller scale than the bench's: the Swarm provider against
// the stand-in Docker API with 200 services and 2,000 tasks (Docker's JSON
// shapes). Correctness only, never speed: every service becomes its router and
// its ten servers; a task started on one service is picked up by the next
// poll; polls that find nothing changed emit nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { DockerStandin } from '../../bench/docker-standin.js';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import { SwarmProvider } from '../../src/providers/swarm/provider.js';

const SERVICES = 200;
const TASKS = 10;

/** The stand-in with SERVICES services of TASKS tasks, and a provider reading it (not started). */
async function setUp(refreshSeconds: number, watch: boolean): Promise<{ standin: DockerStandin; provider: SwarmProvider }> {
  const standin = new DockerStandin({ services: SERVICES, tasksPerService: TASKS });
  const port = await standin.listen();
  const provider = new SwarmProvider(
    { endpoint: `tcp://127.0.0.1:${port}`, exposedByDefault: false, defaultRule: 'Host(`{{ normalize .Name }}`)', refreshSeconds, watch },
    pino({ level: 'silent' }),
  );
  return { standin, provider };
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test(`${SERVICES} services and ${SERVICES * TASKS} tasks: every router and server, a new task on the next poll, quiet polls emit nothing`, async () => {
  const { standin, provider } = await setUp(1, false);
  let latest: DynamicConfig | null = null;
  let emits = 0;
  try {
    await provider.start((config, errors) => {
      assert.deepEqual(errors, []);
      latest = config;
      emits++;
    });
    const config = latest as DynamicConfig | null;
    assert.ok(config !== null);
    assert.equal(Object.keys(config.http.routers).length, SERVICES);
    for (let i = 0; i < SERVICES; i++) {
      const s = standin.services[i]!;
      assert.deepEqual(config.http.routers[s.name], { rule: `Host(\`${s.name}.apps.example.com\`)`, entryPoints: ['web'], service: s.name }, s.name);
      const urls = config.http.services[s.name]!.loadBalancer!.servers.map((x) => x.url).sort();
      assert.deepEqual(urls, s.tasks.map((t) => `http://${t.ip}:8080`).sort(), s.name);
    }

    // Polls with nothing new: no new configuration.
    const polls = () => standin.requests.get('/services') ?? 0;
    const from = polls();
    await until('two more polls', () => polls() >= from + 2);
    assert.equal(emits, 1, 'nothing emitted for polls that found the Swarm unchanged');

    const url = standin.startTask(42);
    await until('the new task', () => (latest!.http.services['svc42']?.loadBalancer?.servers ?? []).some((x) => x.url === url));
    assert.equal(latest!.http.services['svc42']!.loadBalancer!.servers.length, TASKS + 1);
    assert.equal(emits, 2);
  } finally {
    provider.stop();
    standin.close();
  }
});

test('a service an event names is read on its own: its new task, and its removal, without a full poll', async () => {
  // No full poll during the test: whatever changes comes from following the named services.
  const { standin, provider } = await setUp(60, true);
  let latest: DynamicConfig | null = null;
  try {
    await provider.start((config) => (latest = config));
    const fullPolls = standin.requests.get('/services');
    await until('the events stream', () => (standin.requests.get('/events') ?? 0) > 0);
    await new Promise((r) => setTimeout(r, 100));

    // A scale-up: the event comes first, the task runs a moment later.
    standin.emitServiceEvent(7);
    await new Promise((r) => setTimeout(r, 400));
    const url = standin.startTask(7);
    await until('the new task', () => (latest!.http.services['svc7']?.loadBalancer?.servers ?? []).some((x) => x.url === url));
    assert.equal(latest!.http.services['svc7']!.loadBalancer!.servers.length, TASKS + 1);
    assert.equal(Object.keys(latest!.http.routers).length, SERVICES);

    // A removal: the service's router and service go.
    const gone = standin.removeService(9);
    standin.emitServiceEvent(gone);
    await until('the removal', () => latest!.http.routers[gone.name] === undefined);
    assert.equal(latest!.http.services[gone.name], undefined);
    assert.equal(Object.keys(latest!.http.routers).length, SERVICES - 1);

    assert.equal(standin.requests.get('/services'), fullPolls, 'no full poll: only the named services were read');
    assert.ok((standin.requests.get('/services/<id>') ?? 0) >= 2);
  } finally {
    provider.stop();
    standin.close();
  }
});

test('with events up, a large Swarm is polled in full less often: one second per 2 MB of answers', async () => {
  const { standin, provider } = await setUp(1, true);
  try {
    await provider.start(() => {});
    const bytes = [...standin.bytes.values()].reduce((n, b) => n + b, 0);
    const intervalS = bytes / (2 * 1024 * 1024);
    assert.ok(intervalS > 1.5, `the answers weigh ${bytes} bytes`);
    const from = standin.requests.get('/services') ?? 0;
    await new Promise((r) => setTimeout(r, 4000));
    const polls = (standin.requests.get('/services') ?? 0) - from;
    assert.ok(polls >= 1 && polls <= Math.ceil(4 / intervalS), `${polls} full polls in 4 s, one every ${intervalS.toFixed(1)} s expected`);
  } finally {
    provider.stop();
    standin.close();
  }
});
