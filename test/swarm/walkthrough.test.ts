// The walkthrough (shared/seed/traefik-on-docker-swarm.md) end to end on a
// real Swarm: portero built from the project's Dockerfile and deployed with
// the walkthrough's own stack files (image and network names changed), the
// whoami stack with its v1 labels, round robin seen from 127.0.0.1, the
// dashboard redirect, and a blue-green switch under a request loop.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from '../helpers/http.js';
import { buildImages, cleanup, createNetwork, docker, IMAGE, portInUse, PREFIX, removeStack, REPO, sleep, swarmSuiteOptions, waitFor, WHOAMI_IMAGE } from './harness.js';

const NET = `${PREFIX}traefik-net`;
const PROXY_STACK = `${PREFIX}traefik`;
const BLUE = `${PREFIX}whoami`;
const GREEN = `${PREFIX}whoami2`;
const HOST = 'whoami.docker.localhost';

const options = await swarmSuiteOptions();

function stackFile(dir: string, name: string): string {
  const text = readFileSync(path.join(REPO, 'examples/walkthrough', name), 'utf8')
    .replace(/image: portero$/m, `image: ${IMAGE}`)
    .replace(/image: emilevauge\/whoami$/m, `image: ${WHOAMI_IMAGE}`)
    .replaceAll('traefik-net', NET);
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}



const hostnameOf = (body: string) => /^Hostname: (.*)$/m.exec(body)?.[1]?.trim() ?? '';

/** A steady, bounded request loop through portero; returns the tally when stopped. */
function requestLoop(workers = 2, budgetMs = 240_000) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: workers * 2 });
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const seen = new Set<string>();
  const deadline = Date.now() + budgetMs;
  const one = async () => {
    for (let i = 0; i < 100_000 && !stop && Date.now() < deadline; i++) {
      try {
        const r = await Promise.race([
          request(80, { headers: { host: HOST }, agent }),
          sleep(15_000).then(() => Promise.reject(new Error('no answer within 15 s'))),
        ]);
        if (r.status === 200) {
          ok++;
          seen.add(hostnameOf(r.body));
        } else failures.push(`HTTP ${r.status}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
      await sleep(5);
    }
  };
  const running = Promise.all(Array.from({ length: workers }, one));
  return {
    seen,
    async finish() {
      stop = true;
      await running;
      agent.destroy();
      return { ok, failures };
    },
  };
}

async function replicasRunning(service: string, n: number): Promise<void> {
  await waitFor(`${service} at ${n}/${n}`, async () => ((await docker(['service', 'ls', '--filter', `name=${service}`, '--format', '{{.Replicas}}'])) === `${n}/${n}` ? true : undefined), 180_000, 250);
}


describe('the walkthrough on a real Swarm', options, () => {
  let dir: string;

  before(async () => {
    for (const port of [80, 8080]) {
      if (await portInUse(port)) throw new Error(`port ${port} on 127.0.0.1 is in use: the walkthrough publishes portero there`);
    }
    await removeStack(GREEN);
    await removeStack(BLUE);
    await removeStack(PROXY_STACK);
    await cleanup();
    await buildImages();
    await createNetwork(NET);
    dir = mkdtempSync(path.join(os.tmpdir(), 'portero-walkthrough-'));
    await docker(['stack', 'deploy', '--resolve-image', 'never', '-c', stackFile(dir, 'portero.yml'), PROXY_STACK]);
    await docker(['stack', 'deploy', '--resolve-image', 'never', '-c', stackFile(dir, 'whoami.yml'), BLUE]);
  });

  after(async () => {
    await removeStack(GREEN);
    await removeStack(BLUE);
    await removeStack(PROXY_STACK);
    await cleanup();
  });

  test('curl -H "Host: whoami.docker.localhost" http://127.0.0.1/ eight times: four hostnames, each twice, in turn', async () => {
    await waitFor('portero to answer /ping on 127.0.0.1:8080', async () => ((await request(8080, { path: '/ping' })).body === 'OK' ? true : undefined), 120_000, 250);
    // Wait until the four replicas are all routable.
    await waitFor('four whoami replicas behind portero', async () => {
      const names = new Set<string>();
      for (let i = 0; i < 8; i++) {
        const r = await request(80, { headers: { host: HOST } });
        if (r.status === 200) names.add(hostnameOf(r.body));
      }
      return names.size === 4 ? true : undefined;
    }, 120_000, 250);
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await request(80, { headers: { host: HOST } });
      assert.equal(r.status, 200);
      seen.push(hostnameOf(r.body));
    }
    assert.equal(new Set(seen).size, 4, seen.join(' '));
    assert.deepEqual(seen.slice(4), seen.slice(0, 4), `round robin order: ${seen.join(' ')}`);
  });

  test('curl http://127.0.0.1:8080/ redirects to the dashboard', async () => {
    const r = await request(8080, { path: '/' });
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, '/dashboard/');
    assert.match(r.body, /^<a href="\/dashboard\/">Found<\/a>\./);
  });

  test('blue-green: a second stack with the same rule, then the first removed, under a request loop without one failure', async () => {
    const blueNames = new Set<string>();
    for (let i = 0; i < 8; i++) blueNames.add(hostnameOf((await request(80, { headers: { host: HOST } })).body));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const greenSeen = new Set<string>();
    const deadline = Date.now() + 180_000;
    const loop = async () => {
      for (let i = 0; i < 50_000 && !stop && Date.now() < deadline; i++) {
        try {
          const r = await request(80, { headers: { host: HOST }, agent });
          if (r.status !== 200) failures.push(`HTTP ${r.status}`);
          else {
            ok++;
            const name = hostnameOf(r.body);
            if (!blueNames.has(name)) greenSeen.add(name);
          }
        } catch (err) {
          failures.push((err as Error).message);
        }
        await sleep(5);
      }
    };
    const loops = Promise.all([loop(), loop()]);
    try {
      await sleep(500);
      await docker(['stack', 'deploy', '--resolve-image', 'never', '-c', stackFile(dir, 'whoami.yml'), GREEN]);
      await waitFor('the green replicas running', async () => ((await docker(['service', 'ls', '--filter', `name=${GREEN}_whoami`, '--format', '{{.Replicas}}'])) === '4/4' ? true : undefined), 120_000, 250);
      await sleep(1500);
      await docker(['stack', 'rm', BLUE]);
      await waitFor('traffic on the green stack', async () => (greenSeen.size >= 4 ? true : undefined), 30_000, 100);
      await waitFor('the blue tasks gone', async () => ((await docker(['ps', '-q', '--filter', `label=com.docker.stack.namespace=${BLUE}`])) === '' ? true : undefined), 60_000, 250);
      await sleep(2000);
    } finally {
      stop = true;
      await loops;
      agent.destroy();
    }
    console.log(`# blue-green: ${ok} requests, ${failures.length} failures`);
    assert.deepEqual(failures, []);
    assert.ok(ok > 100, `requests made: ${ok}`);
  });

  // After the blue-green test the green stack is the live one.
  const LIVE = `${GREEN}_whoami`;

  for (const order of ['start-first', 'stop-first'] as const) {
    test(`docker service update --image (${order}) on 4 replicas loses no request`, async () => {
      await replicasRunning(LIVE, 4);
      const tag = `${WHOAMI_IMAGE}-${order}`;
      await docker(['tag', WHOAMI_IMAGE, tag]);
      const loop = requestLoop();
      await sleep(500);
      await docker(['service', 'update', '--detach', '--image', tag, '--update-order', order, '--update-parallelism', '1', '--update-delay', '1s', LIVE]);
      await waitFor('the update to finish', async () => {
        const state = await docker(['service', 'inspect', LIVE, '--format', '{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}']);
        return state === 'completed' ? true : undefined;
      }, 240_000, 500);
      await replicasRunning(LIVE, 4);
      await sleep(1500);
      const { ok, failures } = await loop.finish();
      console.log(`# update --image ${order}: ${ok} requests, ${failures.length} failures`);
      assert.deepEqual(failures, []);
      assert.ok(ok > 100);
    });
  }

  test('scaling 4 -> 1 -> 4 loses no request', async () => {
    const loop = requestLoop();
    await sleep(500);
    await docker(['service', 'scale', '--detach', `${LIVE}=1`]);
    await replicasRunning(LIVE, 1);
    await sleep(1500);
    await docker(['service', 'scale', '--detach', `${LIVE}=4`]);
    await replicasRunning(LIVE, 4);
    await waitFor('four replicas serving', async () => (loop.seen.size >= 4 ? true : undefined), 30_000, 100);
    await sleep(1500);
    const { ok, failures } = await loop.finish();
    console.log(`# scale 4 -> 1 -> 4: ${ok} requests, ${failures.length} failures`);
    assert.deepEqual(failures, []);
  });

  test('a replica killed outright: idempotent requests in flight are retried, none lost', async () => {
    await replicasRunning(LIVE, 4);
    const loop = requestLoop();
    await sleep(1000);
    const victim = (await docker(['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${LIVE}`])).split('\n')[0];
    await docker(['kill', victim]);
    await sleep(3000);
    await replicasRunning(LIVE, 4);
    await sleep(1500);
    const { ok, failures } = await loop.finish();
    console.log(`# docker kill of one replica: ${ok} requests, ${failures.length} failures`);
    assert.deepEqual(failures, []);
  });
});

