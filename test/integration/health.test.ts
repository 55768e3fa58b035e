// Active health checks end to end: real backends on loopback, portero with
// two workers, checks from the main thread, verdicts through shared memory.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { DynamicConfig, HealthCheckConfig } from '../../src/dynamic/model.js';
import { request } from '../helpers/http.js';
import { startPortero, type TestPortero } from '../helpers/portero.js';

interface Backend {
  name: string;
  port: number;
  /** What /health answers: a status, or 'hang'. */
  health: number | 'hang';
  probes: number;
  close(): Promise<void>;
}

async function backend(name: string): Promise<Backend> {
  const b = { name, port: 0, health: 200 as number | 'hang', probes: 0, close: async () => {} };
  const server = http.createServer((req, res) => {
    if (req.url === '/health') {
      b.probes++;
      assert.equal(req.headers['x-probe'], 'portero', 'configured headers are sent');
      if (b.health === 'hang') return; // never answers
      res.writeHead(b.health).end();
      return;
    }
    res.end(name);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  b.port = (server.address() as AddressInfo).port;
  b.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return b;
}

const CHECK: HealthCheckConfig = { path: '/health', interval: '100ms', timeout: '300ms', headers: { 'X-Probe': 'portero' } };

/** check: null for none. */
function config(backends: Backend[], check: HealthCheckConfig | null = CHECK): DynamicConfig {
  return {
    http: {
      routers: { app: { rule: 'Host(`app.test`)', service: 'app' } },
      services: { app: { loadBalancer: { servers: backends.map((b) => ({ url: `http://127.0.0.1:${b.port}` })), ...(check === null ? {} : { healthCheck: check }) } } },
      middlewares: {},
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function answers(p: TestPortero, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await request(p.webPort, { headers: { host: 'app.test' } })).body);
  return out;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function serverStatus(p: TestPortero): Promise<Record<string, string>> {
  const r = await request(p.apiPort, { path: '/api/http/services/app@file' });
  return (JSON.parse(r.body) as { serverStatus: Record<string, string> }).serverStatus;
}

describe('active health checks', () => {
  let a: Backend;
  let b: Backend;
  let p: TestPortero;
  before(async () => {
    a = await backend('a');
    b = await backend('b');
    p = await startPortero(config([a, b]), { workers: 2 });
  });
  after(async () => {
    await p.stop();
    await a.close();
    await b.close();
  });

  test('a failing server gets no traffic, and gets it back once it passes', async () => {
    assert.deepEqual(new Set(await answers(p, 8)), new Set(['a', 'b']));
    b.health = 500;
    await until('b reported DOWN', async () => ((await serverStatus(p))[`http://127.0.0.1:${b.port}`] === 'DOWN' ? true : undefined));
    assert.deepEqual(new Set(await answers(p, 12)), new Set(['a']), 'both workers skip the failing server');
    b.health = 200;
    await until('b UP again', async () => ((await serverStatus(p))[`http://127.0.0.1:${b.port}`] === 'UP' ? true : undefined));
    assert.deepEqual(new Set(await answers(p, 8)), new Set(['a', 'b']));
  });

  test('a check that gets no answer within its timeout fails', async () => {
    b.health = 'hang';
    await until('b DOWN on timeout', async () => ((await serverStatus(p))[`http://127.0.0.1:${b.port}`] === 'DOWN' ? true : undefined));
    assert.deepEqual(new Set(await answers(p, 6)), new Set(['a']));
    b.health = 200;
    await until('b UP again', async () => ((await serverStatus(p))[`http://127.0.0.1:${b.port}`] === 'UP' ? true : undefined));
  });

  test('one checker for all workers: about one probe per interval, not one per worker', async () => {
    const before = b.probes;
    await sleep(1000);
    const probes = b.probes - before;
    // 100 ms interval: ~10 in a second (timers drift late, never early); two checkers would make ~20.
    assert.ok(probes >= 4 && probes <= 13, `${probes} probes in 1 s`);
  });

  test('the expected status can be set; removing the check puts the server back', async () => {
    p.provider.set(config([a, b], { ...CHECK, status: 204 }));
    await until('a and b DOWN (200 is not 204)', async () => {
      const s = await serverStatus(p);
      return Object.values(s).every((v) => v === 'DOWN') ? true : undefined;
    });
    // Every server down: a guess still beats a certain 503.
    assert.equal((await request(p.webPort, { headers: { host: 'app.test' } })).status, 200);
    p.provider.set(config([a, b], null));
    await until('both UP without a check', async () => {
      const s = await serverStatus(p);
      return Object.values(s).every((v) => v === 'UP') ? true : undefined;
    });
    const probes = a.probes;
    await sleep(300);
    assert.equal(a.probes, probes, 'no more probes');
  });
});

describe('passive health checks', () => {
  test('a server that refuses connections is taken out for the failure window, for every worker', async () => {
    const a = await backend('a');
    const dead = await backend('dead');
    await dead.close(); // its port now refuses
    const deadUrl = `http://127.0.0.1:${dead.port}`;
    const cfg: DynamicConfig = {
      http: {
        routers: { app: { rule: 'Host(`app.test`)', service: 'app' } },
        services: {
          app: {
            loadBalancer: {
              servers: [{ url: `http://127.0.0.1:${a.port}` }, { url: deadUrl }],
              passiveHealthCheck: { failureWindow: '1500ms', maxFailedAttempts: 1 },
            },
          },
        },
        middlewares: {},
      },
    };
    const p = await startPortero(cfg, { workers: 2 });
    try {
      assert.equal((await serverStatus(p))[deadUrl], 'UP', 'up until it fails');
      // Every request succeeds: the refused attempt is retried on the other server.
      assert.deepEqual(new Set(await answers(p, 6)), new Set(['a']));
      assert.equal((await serverStatus(p))[deadUrl], 'DOWN', 'out after a refused connection');
      await until('back after the window', async () => ((await serverStatus(p))[deadUrl] === 'UP' ? true : undefined), 5000);
    } finally {
      await p.stop();
      await a.close();
    }
  });
});
