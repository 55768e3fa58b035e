// The access log end to end: two workers batch their lines to the main
// thread, which writes them to a file; Traefik's common and JSON formats.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AccessLogConfig } from '../../src/config/static.js';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import { startPortero, type TestPortero } from '../helpers/portero.js';
import { rawExchange, request } from '../helpers/http.js';

async function startBackend(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const status = /^\/status\/(\d{3})/.exec(req.url ?? '');
      res.writeHead(status ? Number(status[1]) : 200, { 'content-type': 'text/plain' });
      res.end('hello world\n'); // 12 bytes
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

function dynamic(backend: number): DynamicConfig {
  return {
    http: {
      routers: { app: { rule: 'Host(`app.test`)', service: 'app' } },
      services: { app: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${backend}` }] } } },
      middlewares: {},
    },
  };
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}

async function waitForLines(file: string, n: number, ms = 3000): Promise<string[]> {
  const until = Date.now() + ms;
  let lines = readLines(file);
  while (lines.length < n && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 25));
    lines = readLines(file);
  }
  return lines;
}

describe('access log', () => {
  let backend: Awaited<ReturnType<typeof startBackend>>;
  let dir: string;

  before(async () => {
    backend = await startBackend();
    dir = mkdtempSync(join(tmpdir(), 'portero-accesslog-'));
  });
  after(async () => {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(accessLog: AccessLogConfig): Promise<TestPortero> {
    return startPortero(dynamic(backend.port), {
      workers: 2,
      tweak: (c) => {
        c.accessLog = accessLog;
      },
    });
  }

  test('common format: one Traefik CLF line per request, written while serving', async () => {
    const file = join(dir, 'common.log');
    const p = await start({ format: 'common', filePath: file, bufferingSize: 0 });
    try {
      const overview = JSON.parse((await request(p.apiPort, { path: '/api/overview' })).body) as { features: unknown };
      assert.deepEqual(overview.features, { tracing: '', metrics: '', accessLog: true }, 'the API overview says the access log is on');
      const n = 40;
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          request(p.webPort, { path: `/item/${i}?q=${i}`, headers: { host: 'app.test', referer: 'http://ref.test/', 'user-agent': 'probe/1.0' } }),
        ),
      );
      assert.equal((await request(p.webPort, { path: '/nothing', headers: { host: 'other.test' } })).status, 404);
      assert.equal((await request(p.webPort, { method: 'POST', path: '/status/503', headers: { host: 'app.test' }, body: 'abc' })).status, 503);
      // Batches leave the workers every 100 ms: the lines arrive without a shutdown.
      const lines = await waitForLines(file, n + 2);
      assert.equal(lines.length, n + 2);
      const re =
        /^127\.0\.0\.1 - - \[(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) \+0000\] "GET \/item\/(\d+)\?q=(\d+) HTTP\/1\.1" 200 12 "http:\/\/ref\.test\/" "probe\/1\.0" (\d+) "app@file" "http:\/\/127\.0\.0\.1:(\d+)" (\d+)ms$/;
      const items = new Set<number>();
      for (const line of lines.filter((l) => l.includes('/item/'))) {
        const m = re.exec(line);
        assert.ok(m, line);
        assert.equal(m[7], m[8]);
        items.add(Number(m[7]));
        assert.equal(Number(m[10]), backend.port);
        const year = new Date().getUTCFullYear();
        assert.ok(Math.abs(Number(m[3]) - year) <= 1);
      }
      assert.equal(items.size, n);
      const notFound = lines.find((l) => l.includes('/nothing'));
      assert.match(notFound ?? '', /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/nothing HTTP\/1\.1" 404 19 "-" "-" \d+ "-" "-" \d+ms$/);
      const failed = lines.find((l) => l.includes('/status/503'));
      assert.match(failed ?? '', /"POST \/status\/503 HTTP\/1\.1" 503 12 "-" "-" \d+ "app@file" "http:\/\/127\.0\.0\.1:\d+" \d+ms$/);
      // Request counts are numbered across both workers: 1..n+2, each once.
      const counts = lines.map((l) => Number(/" (\d+) "[^"]*" "[^"]*" \d+ms$/.exec(l)?.[1])).sort((a, b) => a - b);
      assert.deepEqual(counts, Array.from({ length: n + 2 }, (_, i) => i + 1));
    } finally {
      await p.stop();
    }
  });

  test('json format: Traefik field names and units', async () => {
    const file = join(dir, 'json.log');
    const p = await start({ format: 'json', filePath: file, bufferingSize: 0 });
    try {
      assert.equal((await request(p.webPort, { method: 'POST', path: '/a?b=c', headers: { host: `app.test:${p.webPort}`, 'user-agent': 'ua' }, body: 'hello' })).status, 200);
      assert.equal((await request(p.webPort, { path: '/', headers: { host: 'other.test' } })).status, 404);
    } finally {
      await p.stop();
    }
    // Stopping writes whatever the workers still held.
    const lines = readLines(file);
    assert.equal(lines.length, 2);
    const [ok, miss] = lines.map((l) => JSON.parse(l) as Record<string, unknown>).sort((a, b) => (a.RequestCount as number) - (b.RequestCount as number));
    assert.equal(ok.ClientHost, '127.0.0.1');
    assert.equal(ok.ClientAddr, '127.0.0.1');
    assert.equal(ok.RequestMethod, 'POST');
    assert.equal(ok.RequestPath, '/a?b=c');
    assert.equal(ok.RequestProtocol, 'HTTP/1.1');
    assert.equal(ok.RequestHost, 'app.test');
    assert.equal(ok.RequestPort, String(p.webPort));
    assert.equal(ok.RequestAddr, `app.test:${p.webPort}`);
    assert.equal(ok.RequestContentSize, 5);
    assert.equal(ok.DownstreamStatus, 200);
    assert.equal(ok.DownstreamContentSize, 12);
    assert.equal(ok.OriginStatus, 200);
    assert.equal(ok.OriginContentSize, 12);
    assert.equal(ok.RouterName, 'app@file');
    assert.equal(ok.ServiceName, 'app@file');
    assert.equal(ok.ServiceURL, `http://127.0.0.1:${backend.port}`);
    assert.equal(ok.ServiceAddr, `127.0.0.1:${backend.port}`);
    assert.equal(ok.entryPointName, 'web');
    assert.equal(ok.RequestCount, 1);
    assert.equal(ok.RetryAttempts, 0);
    assert.equal(ok.level, 'info');
    assert.equal(ok.msg, '');
    assert.ok(Number.isInteger(ok.Duration) && (ok.Duration as number) > 0, 'Duration in nanoseconds');
    assert.ok(Number.isInteger(ok.OriginDuration) && (ok.OriginDuration as number) <= (ok.Duration as number));
    assert.equal(ok.Overhead, (ok.Duration as number) - (ok.OriginDuration as number));
    assert.match(String(ok.StartUTC), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/);
    assert.ok(Math.abs(Date.parse(String(ok.StartUTC)) - Date.now()) < 60_000);
    assert.equal(miss.DownstreamStatus, 404);
    assert.equal(miss.RouterName, undefined);
    assert.equal(miss.OriginStatus, undefined);
    assert.equal(miss.RequestCount, 2);
  });

  test('requests the client abandons are logged as 499', async () => {
    const file = join(dir, 'abandoned.log');
    const slow = http.createServer(() => {}); // never answers
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const p = await startPortero(
      {
        http: {
          routers: { slow: { rule: 'Host(`slow.test`)', service: 'slow' } },
          services: { slow: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}` }] } } },
          middlewares: {},
        },
      },
      { workers: 1, tweak: (c) => void (c.accessLog = { format: 'common', filePath: file, bufferingSize: 0 }) },
    );
    try {
      await rawExchange(p.webPort, 'GET /wait HTTP/1.1\r\nHost: slow.test\r\n\r\n', 200);
      const lines = await waitForLines(file, 1);
      assert.equal(lines.length, 1);
      assert.match(lines[0], /"GET \/wait HTTP\/1\.1" 499 0 "-" "-" 1 "slow@file"/);
    } finally {
      await p.stop();
      slow.closeAllConnections();
      slow.close();
    }
  });

  test('bufferingSize holds lines (at most a second) before writing', async () => {
    const file = join(dir, 'buffered.log');
    const p = await start({ format: 'genericCLF', filePath: file, bufferingSize: 1000 });
    try {
      for (let i = 0; i < 3; i++) await request(p.webPort, { headers: { host: 'app.test' } });
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(readLines(file).length, 0, 'held');
      const lines = await waitForLines(file, 3, 2000);
      assert.equal(lines.length, 3);
      assert.match(lines[0], /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/ HTTP\/1\.1" 200 12 "-" "-"$/);
    } finally {
      await p.stop();
    }
  });

  test('off by default: workers get no observer and no shared counters', async () => {
    const p = await startPortero(dynamic(backend.port), { workers: 1 });
    try {
      assert.equal((await request(p.webPort, { headers: { host: 'app.test' } })).status, 200);
      assert.equal(p.portero.observability.counters, null);
      assert.deepEqual(p.portero.observability.taskFields(), { counters: null, metrics: null, accessLog: null });
    } finally {
      await p.stop();
    }
  });
});
