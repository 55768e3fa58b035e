// The Swarm provider against a real engine: services with labels of both
// dialects become routers, services and task addresses; scaling, label
// updates and removal are followed within about a second.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Docker from 'dockerode';
import { pino } from 'pino';
import type { ConfigError, DynamicConfig } from '../../src/dynamic/model.js';
import { SwarmProvider } from '../../src/providers/swarm/provider.js';
import { buildImages, cleanup, createNetwork, docker, PREFIX, sleep, swarmSuiteOptions, taskIps, waitFor, WHOAMI_IMAGE } from './harness.js';

const NET = `${PREFIX}provider-net`;
const V1 = `${PREFIX}v1`;
const V3 = `${PREFIX}v3`;

const options = await swarmSuiteOptions();

describe('Swarm provider on a real engine', options, () => {
  let provider: SwarmProvider;
  let latest: { config: DynamicConfig; errors: ConfigError[]; at: number } | null = null;

  before(async () => {
    await cleanup();
    await buildImages();
    await createNetwork(NET);
    await docker([
      'service', 'create', '--detach', '--name', V1, '--network', NET, '--replicas', '2',
      '--label', 'traefik.enable=true', '--label', 'traefik.frontend.rule=Host:v1.example', '--label', 'traefik.port=80',
      WHOAMI_IMAGE,
    ]);
    await docker([
      'service', 'create', '--detach', '--name', V3, '--network', NET, '--replicas', '1',
      '--label', 'traefik.enable=true',
      '--label', 'traefik.http.routers.api.rule=Host(`v3.example`) && PathPrefix(`/api`)',
      '--label', 'traefik.http.services.api-svc.loadbalancer.server.port=80',
      WHOAMI_IMAGE,
    ]);
    // A service without traefik.enable: not exposed (exposedByDefault=false below).
    await docker(['service', 'create', '--detach', '--name', `${PREFIX}hidden`, '--network', NET, WHOAMI_IMAGE]);
    provider = new SwarmProvider(
      { endpoint: 'unix:///var/run/docker.sock', exposedByDefault: false, defaultRule: 'Host(`{{ normalize .Name }}`)', refreshSeconds: 1, watch: true },
      pino({ level: 'silent' }),
    );
    await provider.start((config, errors) => (latest = { config, errors, at: Date.now() }));
  });

  after(async () => {
    provider?.stop();
    await cleanup();
  });

  const routers = () => latest?.config.http.routers ?? {};
  const serversOf = (svc: string) => (latest?.config.http.services[svc]?.loadBalancer?.servers ?? []).map((s) => s.url).sort();

  test('v1 and v3 labels become routers and services with the tasks\' overlay addresses', async () => {
    const ips = await waitFor('2 v1 tasks running', async () => ((await taskIps(V1, NET)).length === 2 ? taskIps(V1, NET) : undefined));
    await waitFor('the v1 service with 2 servers', async () => (serversOf(V1).length === 2 ? true : undefined), 10_000);
    const v1Router = Object.values(routers()).find((r) => r.rule === 'Host:whoami.docker.localhost' || r.rule === 'Host:v1.example');
    assert.ok(v1Router, JSON.stringify(routers()));
    assert.equal(v1Router.ruleSyntax, 'v1');
    assert.deepEqual(serversOf(V1), ips.map((ip) => `http://${ip}:80`).sort());

    await waitFor('the v3 service', async () => (serversOf('api-svc').length === 1 ? true : undefined), 60_000);
    assert.equal(routers().api.rule, 'Host(`v3.example`) && PathPrefix(`/api`)');
    assert.equal(routers().api.service, 'api-svc');
    assert.ok(!Object.keys(latest!.config.http.services).some((s) => s.includes('hidden')), 'services without traefik.enable stay hidden');
  });

  test('scaling is followed: a replica is routable, and a stopped one gone, within about a second', async () => {
    // Watch the engine closely (every 25 ms) to time the provider against it.
    const docker = new Docker({ socketPath: '/var/run/docker.sock' });
    const runningSince = new Map<string, number>();
    const stoppedAt = new Map<string, number>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const tasks = await docker.listTasks({ filters: JSON.stringify({ service: [V1] }) });
        const now = Date.now();
        for (const t of tasks) {
          const ip = (t as { NetworksAttachments?: { Addresses?: string[] }[] }).NetworksAttachments?.[0]?.Addresses?.[0]?.split('/')[0];
          if (ip === undefined) continue;
          const url = `http://${ip}:80`;
          if (t.Status?.State === 'running' && t.DesiredState === 'running' && !runningSince.has(url)) runningSince.set(url, now);
          if (runningSince.has(url) && (t.Status?.State !== 'running' || t.DesiredState !== 'running') && !stoppedAt.has(url)) stoppedAt.set(url, now);
        }
        await sleep(25);
      }
    })();
    const inConfigSince = new Map<string, number>();
    const outOfConfigAt = new Map<string, number>();
    const tracker = setInterval(() => {
      const now = Date.now();
      const current = new Set(serversOf(V1));
      for (const u of current) if (!inConfigSince.has(u)) inConfigSince.set(u, now);
      for (const u of inConfigSince.keys()) if (!current.has(u) && !outOfConfigAt.has(u)) outOfConfigAt.set(u, now);
    }, 5);
    try {
      await sleep(300);
      const before = new Set(serversOf(V1));
      await docker.getService(V1).inspect().then((svc: { Version: { Index: number }; Spec: Record<string, unknown> }) =>
        docker.getService(V1).update({ ...svc.Spec, version: svc.Version.Index, Mode: { Replicated: { Replicas: 4 } } }),
      );
      await waitFor('4 servers in the config', async () => (serversOf(V1).length === 4 ? true : undefined), 90_000, 20);
      const added = [...inConfigSince.keys()].filter((u) => !before.has(u));
      const addDelays = added.map((u) => inConfigSince.get(u)! - (runningSince.get(u) ?? inConfigSince.get(u)!));
      console.log(`# new replica routable after the engine reports it running: ${addDelays.join(', ')} ms`);
      for (const d of addDelays) assert.ok(d < 2500, `took ${d} ms`);

      await docker.getService(V1).inspect().then((svc: { Version: { Index: number }; Spec: Record<string, unknown> }) =>
        docker.getService(V1).update({ ...svc.Spec, version: svc.Version.Index, Mode: { Replicated: { Replicas: 1 } } }),
      );
      await waitFor('3 servers removed from the config', async () => (serversOf(V1).length === 1 ? true : undefined), 60_000, 20);
      await sleep(200);
      const removed = [...outOfConfigAt.keys()];
      const removeDelays = removed.map((u) => outOfConfigAt.get(u)! - (stoppedAt.get(u) ?? outOfConfigAt.get(u)!));
      console.log(`# stopped replica out of the table after the engine stops it: ${removeDelays.join(', ')} ms`);
      for (const d of removeDelays) assert.ok(d < 2500, `took ${d} ms`);
      assert.equal(removed.length, 3);
      assert.deepEqual(serversOf(V1), (await taskIps(V1, NET)).map((ip) => `http://${ip}:80`));
    } finally {
      clearInterval(tracker);
      watching = false;
      await watcher;
    }
  });

  test('label updates and removal are followed', async () => {
    await docker(['service', 'update', '--detach', '--label-add', 'traefik.frontend.rule=Host:renamed.example', V1]);
    await waitFor('the new rule', async () => (Object.values(routers()).some((r) => r.rule === 'Host:renamed.example') ? true : undefined), 30_000);
    await docker(['service', 'rm', V3]);
    await waitFor('the v3 router gone', async () => (routers().api === undefined ? true : undefined), 10_000);
  });

  test('a missing port label disables that service with a named error', async () => {
    await docker(['service', 'create', '--detach', '--name', `${PREFIX}noport`, '--network', NET, '--label', 'traefik.enable=true', '--label', 'traefik.frontend.rule=Host:noport.example', WHOAMI_IMAGE]);
    const err = await waitFor('the error', async () => latest?.errors.find((e) => /noport/.test(e.message + (e.element?.name ?? ''))), 30_000);
    assert.match(err.message, /port/);
    assert.ok(serversOf(V1).length >= 1, 'the others keep routing');
  });
});
