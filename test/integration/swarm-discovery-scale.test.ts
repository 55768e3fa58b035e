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

test(`${SERVICES} services and ${SERVICES * TASKS} tasks: every router and server, a new task on the next poll, quiet polls emit nothing`, async () => {
  const standin = new DockerStandin({ services: SERVICES, tasksPerService: TASKS });
  const port = await standin.listen();
  const provider = new SwarmProvider(
    { endpoint: `tcp://127.0.0.1:${port}`, exposedByDefault: false, defaultRule: 'Host(`{{ normalize .Name }}`)', refreshSeconds: 1, watch: false },
    pino({ level: 'silent' }),
  );
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
    const until = async (what: string, check: () => boolean) => {
      const end = Date.now() + 10_000;
      while (!check()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
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
