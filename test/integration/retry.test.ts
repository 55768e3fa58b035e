// The retry middleware end to end: a router with one, a service whose only
// server refuses connections for a while (a restarting task), and the
// retries counted in Prometheus metrics.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import { request } from '../helpers/http.js';
import { freePort, startPortero, type TestPortero } from '../helpers/portero.js';

const BUCKETS = [0.1, 1];

function config(port: number, retry: Record<string, unknown>): DynamicConfig {
  return {
    http: {
      routers: {
        app: { rule: 'Host(`app.test`)', service: 'app', middlewares: ['retry'] },
        plain: { rule: 'Host(`plain.test`)', service: 'app' },
      },
      services: { app: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${port}` }] } } },
      middlewares: { retry: { retry } },
    },
  };
}

/**
 * The retries counted once at least `atLeast` more than `since` are, or what
 * is counted after 2 s. A worker answers the client before it adds the
 * exchange's counts, so a scrape right after the answer can come first.
 */
async function retriesAfter(p: TestPortero, since: number, atLeast: number): Promise<number> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const n = (await retriesCounted(p)) - since;
    if (n >= atLeast || Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function retriesCounted(p: TestPortero): Promise<number> {
  const text = (await request(p.apiPort, { path: '/metrics' })).body;
  const m = /^traefik_service_retries_total\{service="app@file"\} (\d+)$/m.exec(text);
  return m === null ? 0 : Number(m[1]);
}

describe('retry middleware', () => {
  let port: number;
  let p: TestPortero;
  before(async () => {
    port = await freePort();
    p = await startPortero(config(port, { attempts: 4, initialInterval: '100ms' }), {
      workers: 1,
      tweak: (c) => {
        c.metrics = { prometheus: { entryPoint: 'traefik', buckets: BUCKETS, addEntryPointsLabels: true, addServicesLabels: true } };
      },
    });
  });
  after(() => p.stop());

  test('the router is enabled, and so is its middleware', async () => {
    const router = JSON.parse((await request(p.apiPort, { path: '/api/http/routers/app@file' })).body) as { status: string };
    assert.equal(router.status, 'enabled');
    const mw = JSON.parse((await request(p.apiPort, { path: '/api/http/middlewares/retry@file' })).body) as { status: string };
    assert.equal(mw.status, 'enabled');
  });

  test('without it, a refused connection is a 502 at once', async () => {
    assert.equal((await request(p.webPort, { headers: { host: 'plain.test' } })).status, 502);
  });

  test('with it, the request waits out a server that comes back (waits 100, 200, 400 ms)', async () => {
    const before = await retriesCounted(p);
    const server = http.createServer((_req, res) => res.end('back'));
    const started = Date.now();
    // The server comes back 150 ms after the first attempt: attempts at ~0, 100 and 300 ms.
    const listening = new Promise<void>((r) => setTimeout(() => server.listen(port, '127.0.0.1', r), 150));
    try {
      const reply = await request(p.webPort, { headers: { host: 'app.test' } });
      assert.equal(reply.status, 200);
      assert.equal(reply.body, 'back');
      const took = Date.now() - started;
      assert.ok(took >= 250, `answered after ${took} ms: the retries waited`);
      const retries = await retriesAfter(p, before, 2);
      assert.ok(retries >= 2 && retries <= 3, `${retries} retries counted`);
    } finally {
      await listening;
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  test('after its attempts, the last failure is answered: 502', async () => {
    p.provider.set(config(port, { attempts: 3, initialInterval: '10ms' }));
    const before = await retriesCounted(p);
    assert.equal((await request(p.webPort, { headers: { host: 'app.test' } })).status, 502);
    assert.equal(await retriesAfter(p, before, 2), 2, 'attempts 3: two retries');
  });

  test('a bad retry middleware disables the routers that use it, with its error', async () => {
    p.provider.set(config(port, { attempts: 0 }));
    const mw = JSON.parse((await request(p.apiPort, { path: '/api/http/middlewares/retry@file' })).body) as { status: string; error: string[] };
    assert.equal(mw.status, 'disabled');
    assert.match(mw.error[0], /retry.attempts must be an integer >= 1/);
    assert.equal((await request(p.webPort, { headers: { host: 'app.test' } })).status, 404);
  });
});
