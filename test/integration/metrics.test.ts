// /metrics end to end: real workers (two), real backends, counts read back
// from Prometheus text. The counters live in shared memory; N requests must
// add exactly N whichever worker served them.
import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import { freePort, startPortero, type TestPortero } from '../helpers/portero.js';
import { request } from '../helpers/http.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1], labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
  }
  return out;
}

function pick(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return pick(samples, name, labels).reduce((n, s) => n + s.value, 0);
}

/** A backend answering /status/<code> with that code and /sleep/<ms> after a pause; anything else 200. */
async function startBackend(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const status = /^\/status\/(\d{3})/.exec(req.url ?? '');
      const sleep = /^\/sleep\/(\d+)/.exec(req.url ?? '');
      const answer = () => {
        res.writeHead(status ? Number(status[1]) : 200, { 'content-type': 'text/plain' });
        res.end('hello\n');
      };
      if (sleep) setTimeout(answer, Number(sleep[1]));
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

async function scrape(port: number): Promise<Sample[]> {
  const r = await request(port, { path: '/metrics' });
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parseMetrics(r.body);
}

/** Scrapes until `done` holds (the last responses may be counted a moment after the client has them). */
async function scrapeUntil(port: number, done: (s: Sample[]) => boolean): Promise<Sample[]> {
  let s = await scrape(port);
  for (let i = 0; i < 50 && !done(s); i++) {
    await new Promise((r) => setTimeout(r, 20));
    s = await scrape(port);
  }
  return s;
}

async function inParallel(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

const BUCKETS = [0.025, 0.05, 0.5];

function dynamic(backend: number, dead: number[], extra: Partial<DynamicConfig['http']> = {}): DynamicConfig {
  return {
    http: {
      routers: {
        app: { rule: 'Host(`app.test`)', service: 'app' },
        dead: { rule: 'Host(`dead.test`)', service: 'dead' },
        ...(extra.routers ?? {}),
      },
      services: {
        app: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${backend}` }] } },
        dead: { loadBalancer: { servers: dead.map((p) => ({ url: `http://127.0.0.1:${p}` })) } },
        ...(extra.services ?? {}),
      },
      middlewares: {},
    },
  };
}

describe('Prometheus metrics, two workers', () => {
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let deadPorts: number[];
  let p: TestPortero;

  before(async () => {
    backend = await startBackend();
    deadPorts = [await freePort(), await freePort()];
    p = await startPortero(dynamic(backend.port, deadPorts), {
      workers: 2,
      tweak: (c) => {
        c.metrics = { prometheus: { entryPoint: 'traefik', buckets: BUCKETS, addEntryPointsLabels: true, addServicesLabels: true } };
      },
    });
  });
  after(async () => {
    await p.stop();
    await backend.close();
  });

  test('the API overview says metrics are on (Prometheus) and the access log off', async () => {
    const overview = JSON.parse((await request(p.apiPort, { path: '/api/overview' })).body) as { features: unknown };
    assert.deepEqual(overview.features, { tracing: '', metrics: 'Prometheus', accessLog: false });
  });

  test('N requests add exactly N, per code and method, on the entry point and the service', async () => {
    const plan: { method: string; host: string; path: string; status: number; body?: string }[] = [];
    for (let i = 0; i < 150; i++) plan.push({ method: 'GET', host: 'app.test', path: '/', status: 200 });
    for (let i = 0; i < 40; i++) plan.push({ method: 'POST', host: 'app.test', path: '/', status: 200, body: 'x'.repeat(100) });
    for (let i = 0; i < 20; i++) plan.push({ method: 'HEAD', host: 'app.test', path: '/', status: 200 });
    for (let i = 0; i < 15; i++) plan.push({ method: 'DELETE', host: 'app.test', path: '/status/204', status: 204 });
    for (let i = 0; i < 12; i++) plan.push({ method: 'GET', host: 'app.test', path: '/status/503', status: 503 });
    // (uWebSockets.js v20.30 drops extension methods such as PROPFIND before portero sees them: no "other" here.)
    for (let i = 0; i < 10; i++) plan.push({ method: 'PATCH', host: 'app.test', path: '/', status: 200, body: '{}' });
    for (let i = 0; i < 5; i++) plan.push({ method: 'OPTIONS', host: 'app.test', path: '/', status: 200 });
    for (let i = 0; i < 9; i++) plan.push({ method: 'GET', host: 'nobody.test', path: '/', status: 404 });
    for (let i = 0; i < 7; i++) plan.push({ method: 'GET', host: 'dead.test', path: '/', status: 502 });
    // A fresh connection per request: the kernel spreads them over both workers.
    await inParallel(plan.length, 16, async (i) => {
      const q = plan[i];
      const r = await request(p.webPort, { method: q.method, path: q.path, headers: { host: q.host }, body: q.body });
      assert.equal(r.status, q.status, `${q.method} ${q.host}${q.path}`);
    });
    const n = plan.length;
    const s = await scrapeUntil(p.apiPort, (x) => total(x, 'traefik_entrypoint_requests_total') >= n);
    await new Promise((r) => setTimeout(r, 100));
    const again = await scrape(p.apiPort);
    assert.equal(total(again, 'traefik_entrypoint_requests_total'), n, 'no more than N either');

    const ep = (code: string, method: string) =>
      total(s, 'traefik_entrypoint_requests_total', { code, method, entrypoint: 'web', protocol: 'http' });
    assert.equal(total(s, 'traefik_entrypoint_requests_total', { entrypoint: 'web' }), n);
    assert.equal(ep('200', 'GET'), 150);
    assert.equal(ep('200', 'POST'), 40);
    assert.equal(ep('200', 'HEAD'), 20);
    assert.equal(ep('204', 'DELETE'), 15);
    assert.equal(ep('503', 'GET'), 12);
    assert.equal(ep('200', 'PATCH'), 10);
    assert.equal(ep('200', 'OPTIONS'), 5);
    assert.equal(ep('404', 'GET'), 9);
    assert.equal(ep('502', 'GET'), 7);

    const svc = (service: string, code: string, method: string) => total(s, 'traefik_service_requests_total', { service, code, method, protocol: 'http' });
    assert.equal(total(s, 'traefik_service_requests_total', { service: 'app@file' }), n - 9 - 7);
    assert.equal(svc('app@file', '200', 'GET'), 150);
    assert.equal(svc('app@file', '503', 'GET'), 12);
    assert.equal(svc('dead@file', '502', 'GET'), 7);
    assert.equal(total(s, 'traefik_service_requests_total', { service: 'dead@file' }), 7);
    // Two dead servers: each request tried the second after the first refused.
    assert.equal(total(s, 'traefik_service_retries_total', { service: 'dead@file' }), 7);
    assert.equal(pick(s, 'traefik_service_retries_total', { service: 'app@file' }).length, 0);
    // Nothing in flight any more.
    assert.equal(total(s, 'traefik_open_connections', { entrypoint: 'web', protocol: 'http' }), 0);
  });

  test('histograms: cumulative buckets, +Inf == _count == requests_total, slow requests in the right bucket', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await request(p.webPort, { path: '/sleep/80', headers: { host: 'app.test' } })).status, 200);
    const s = await scrapeUntil(p.apiPort, (x) => pick(x, 'traefik_entrypoint_request_duration_seconds_bucket', { le: '+Inf' }).length > 0);
    for (const prefix of ['traefik_entrypoint', 'traefik_service']) {
      const counts = pick(s, `${prefix}_requests_total`);
      assert.ok(counts.length > 0);
      for (const c of counts) {
        const buckets = pick(s, `${prefix}_request_duration_seconds_bucket`, c.labels);
        assert.deepEqual(
          buckets.map((b) => b.labels.le),
          [...BUCKETS.map(String), '+Inf'],
        );
        for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value, 'monotone');
        assert.equal(buckets.at(-1)!.value, c.value, '+Inf bucket is the request count');
        assert.equal(total(s, `${prefix}_request_duration_seconds_count`, c.labels), c.value);
        assert.ok(total(s, `${prefix}_request_duration_seconds_sum`, c.labels) >= 0);
      }
    }
    // The three 80 ms requests are above 0.05 s and within 0.5 s.
    const labels = { code: '200', method: 'GET', service: 'app@file' };
    const le = (b: string) => total(s, 'traefik_service_request_duration_seconds_bucket', { ...labels, le: b });
    assert.ok(le('0.5') - le('0.05') >= 3, `${le('0.5')} - ${le('0.05')}`);
    assert.ok(total(s, 'traefik_service_request_duration_seconds_sum', labels) >= 0.24);
  });

  test('server_up is 1 unless health marks a server down', async () => {
    let s = await scrape(p.apiPort);
    const up = pick(s, 'traefik_service_server_up');
    assert.deepEqual(
      up.map((x) => [x.labels.service, x.labels.url, x.value]).sort(),
      [
        ['app@file', `http://127.0.0.1:${backend.port}`, 1],
        ['dead@file', `http://127.0.0.1:${deadPorts[0]}`, 1],
        ['dead@file', `http://127.0.0.1:${deadPorts[1]}`, 1],
      ].sort(),
      'refused connections alone do not mark a server down',
    );
    const dead = p.portero.publisher.current!.spec.services.find((x) => x.name === 'dead@file');
    assert.ok(dead?.kind === 'lb');
    p.portero.publisher.state.setUp(dead.servers[0].slot, false);
    try {
      s = await scrape(p.apiPort);
      assert.equal(total(s, 'traefik_service_server_up', { url: `http://127.0.0.1:${deadPorts[0]}` }), 0);
      assert.equal(total(s, 'traefik_service_server_up', { url: `http://127.0.0.1:${deadPorts[1]}` }), 1);
    } finally {
      p.portero.publisher.state.setUp(dead.servers[0].slot, true);
    }
  });

  test('process metrics are there', async () => {
    const s = await scrape(p.apiPort);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes']) {
      assert.equal(pick(s, name).length, 1, name);
      assert.ok(pick(s, name)[0].value > 0, name);
    }
  });

  test('reloads are counted; a service that leaves is no longer reported, and its slot starts from zero for the next', async () => {
    let s = await scrape(p.apiPort);
    const reloads = total(s, 'traefik_config_reloads_total');
    const lastBefore = total(s, 'traefik_config_last_reload_success');
    assert.ok(reloads >= 1);
    assert.ok(lastBefore > 1_600_000_000 && lastBefore <= Date.now() / 1000 + 1);
    // The same configuration again is not a reload.
    p.provider.set(dynamic(backend.port, deadPorts));
    s = await scrape(p.apiPort);
    assert.equal(total(s, 'traefik_config_reloads_total'), reloads);

    // dead leaves and fresh arrives in the same version: fresh takes dead's service slot.
    const before = new Map(p.portero.publisher.current!.spec.services.map((x) => [x.name, x.rr]));
    await new Promise((r) => setTimeout(r, 20));
    const next = dynamic(backend.port, deadPorts, {
      routers: { fresh: { rule: 'Host(`fresh.test`)', service: 'fresh' } },
      services: { fresh: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${backend.port}` }] } } },
    });
    delete next.http.routers.dead;
    delete next.http.services.dead;
    p.provider.set(next);
    const after = new Map(p.portero.publisher.current!.spec.services.map((x) => [x.name, x.rr]));
    assert.equal(after.get('fresh@file'), before.get('dead@file'), 'the slot was reused');
    s = await scrape(p.apiPort);
    assert.equal(total(s, 'traefik_config_reloads_total'), reloads + 1);
    assert.ok(total(s, 'traefik_config_last_reload_success') > lastBefore);
    for (const name of ['traefik_service_requests_total', 'traefik_service_retries_total', 'traefik_service_server_up', 'traefik_service_request_duration_seconds_count']) {
      assert.equal(pick(s, name, { service: 'dead@file' }).length, 0, `${name} for the removed service`);
      assert.equal(pick(s, name, { service: 'fresh@file' }).filter((x) => name === 'traefik_service_server_up' || x.value > 0).length, name === 'traefik_service_server_up' ? 1 : 0, `${name} for the new service`);
    }
    assert.equal((await request(p.webPort, { headers: { host: 'fresh.test' } })).status, 200);
    s = await scrapeUntil(p.apiPort, (x) => total(x, 'traefik_service_requests_total', { service: 'fresh@file' }) >= 1);
    assert.equal(total(s, 'traefik_service_requests_total', { service: 'fresh@file', code: '200', method: 'GET' }), 1);
    // Entry point counts are cumulative across table versions.
    assert.ok(total(s, 'traefik_entrypoint_requests_total', { code: '502' }) >= 7);
  });
});

describe('metrics settings', () => {
  let backend: Awaited<ReturnType<typeof startBackend>>;

  before(async () => {
    backend = await startBackend();
  });
  after(() => backend.close());

  test('off by default: /metrics is 404 and proxying works', async () => {
    const p = await startPortero(dynamic(backend.port, []), { workers: 1 });
    try {
      assert.equal((await request(p.apiPort, { path: '/metrics' })).status, 404);
      assert.equal((await request(p.webPort, { headers: { host: 'app.test' } })).status, 200);
    } finally {
      await p.stop();
    }
  });

  test('on a dedicated entry point, with services only', async () => {
    const metricsPort = await freePort();
    const p = await startPortero(dynamic(backend.port, []), {
      workers: 1,
      tweak: (c) => {
        c.entryPoints.metrics = { ...c.entryPoints.web, name: 'metrics', address: `127.0.0.1:${metricsPort}`, port: metricsPort };
        c.metrics = { prometheus: { entryPoint: 'metrics', buckets: [0.1, 0.3, 1.2, 5], addEntryPointsLabels: false, addServicesLabels: true } };
      },
    });
    try {
      assert.equal((await request(p.webPort, { headers: { host: 'app.test' } })).status, 200);
      assert.equal((await request(p.apiPort, { path: '/metrics' })).status, 404, 'not on the traefik entry point');
      assert.equal((await request(metricsPort, { path: '/' })).status, 404, 'the metrics entry point serves /metrics only');
      const s = await scrapeUntil(metricsPort, (x) => total(x, 'traefik_service_requests_total') >= 1);
      assert.equal(total(s, 'traefik_service_requests_total', { service: 'app@file', code: '200' }), 1);
      assert.equal(pick(s, 'traefik_entrypoint_requests_total').length, 0, 'addEntryPointsLabels=false');
      assert.deepEqual(
        pick(s, 'traefik_service_request_duration_seconds_bucket', { service: 'app@file' }).map((b) => b.labels.le),
        ['0.1', '0.3', '1.2', '5', '+Inf'],
      );
      assert.deepEqual(
        pick(s, 'traefik_open_connections').map((x) => x.labels.entrypoint),
        ['web'],
        'the metrics entry point is not a worker entry point',
      );
    } finally {
      await p.stop();
    }
  });

  test('a request retried on a fresh connection (stale keep-alive) counts once, with its retry', async () => {
    // Answers one request per connection, then resets the connection the next time it is used.
    const flaky = net.createServer((s) => {
      let n = 0;
      s.on('data', () => {
        if (++n === 1) s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        else s.resetAndDestroy();
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r));
    const port = (flaky.address() as AddressInfo).port;
    const p = await startPortero(
      {
        http: {
          routers: { flaky: { rule: 'Host(`flaky.test`)', service: 'flaky' } },
          services: { flaky: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${port}` }] } } },
          middlewares: {},
        },
      },
      {
        workers: 1,
        tweak: (c) => {
          c.metrics = { prometheus: { entryPoint: 'traefik', buckets: BUCKETS, addEntryPointsLabels: true, addServicesLabels: true } };
          c.accessLog = { format: 'json', filePath: '/dev/null', bufferingSize: 0 };
        },
      },
    );
    try {
      for (let i = 0; i < 5; i++) assert.equal((await request(p.webPort, { headers: { host: 'flaky.test' } })).status, 200, `request ${i}`);
      const s = await scrapeUntil(p.apiPort, (x) => total(x, 'traefik_service_requests_total') >= 5);
      assert.equal(total(s, 'traefik_service_requests_total', { service: 'flaky@file', code: '200' }), 5);
      assert.ok(total(s, 'traefik_service_retries_total', { service: 'flaky@file' }) >= 1);
    } finally {
      await p.stop();
      flaky.close();
    }
  });
});
