// Process shape: live reconfiguration, a crashing worker, graceful shutdown.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startWhoami } from '../../src/demo/whoami.js';
import { freePort, simpleConfig, startPortero } from '../helpers/portero.js';
import { request } from '../helpers/http.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

test('a new configuration is live on the next request, without a restart', async () => {
  const a = await startWhoami('a');
  const b = await startWhoami('b');
  const p = await startPortero(simpleConfig('Host(`x`)', [`http://127.0.0.1:${a.port}`]), { workers: 2 });
  try {
    assert.match((await request(p.webPort, { headers: { host: 'x' } })).body, /Hostname: a/);
    p.provider.set(simpleConfig('Host(`x`)', [`http://127.0.0.1:${b.port}`]));
    for (let i = 0; i < 4; i++) assert.match((await request(p.webPort, { headers: { host: 'x' } })).body, /Hostname: b/);
    p.provider.set(simpleConfig('Host(`y`)', [`http://127.0.0.1:${b.port}`]));
    assert.equal((await request(p.webPort, { headers: { host: 'x' } })).status, 404);
    assert.equal((await request(p.webPort, { headers: { host: 'y' } })).status, 200);
    const gen = p.portero.publisher.generation;
    p.provider.set(simpleConfig('Host(`y`)', [`http://127.0.0.1:${b.port}`]));
    assert.equal(p.portero.publisher.generation, gen, 'an unchanged configuration publishes no new table');
  } finally {
    await p.stop();
    await a.close();
    await b.close();
  }
});

test('an invalid router is disabled with a named error; the others keep serving', async () => {
  const a = await startWhoami('a');
  const p = await startPortero(
    simpleConfig('Host(`good`)', [`http://127.0.0.1:${a.port}`], { routers: { broken: { rule: 'Host(`x`) && Hots(`y`)', service: 'svc' } } }),
  );
  try {
    assert.equal((await request(p.webPort, { headers: { host: 'good' } })).status, 200);
    const raw = JSON.parse((await request(p.apiPort, { path: '/api/rawdata' })).body);
    assert.equal(raw.routers['broken@file'].status, 'disabled');
    assert.match(raw.routers['broken@file'].error[0], /Hots.*position \d+/);
    assert.equal(raw.routers['r@file'].status, 'enabled');
  } finally {
    await p.stop();
    await a.close();
  }
});

test('a worker whose event loop keeps failing is replaced within 1 s, its successor listening before it stops', async () => {
  const a = await startWhoami('a');
  const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${a.port}`]), { workers: 2 });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  try {
    let relistenAt = 0;
    p.portero.supervisor.onMessage((m) => {
      // Slot 0's successor runs as worker 2 (each slot alternates between two ids).
      if (m.type === 'listening' && m.workerId === 2) relistenAt = Date.now();
    });
    let ok = 0;
    let failed = 0;
    let crashedAt = 0;
    const deadline = Date.now() + 3000;
    const loop = async () => {
      for (let i = 0; i < 3000 && Date.now() < deadline; i++) {
        if (crashedAt === 0 && ok >= 200) {
          crashedAt = Date.now();
          p.portero.supervisor.crash(0);
        }
        try {
          const r = await request(p.webPort, { agent });
          if (r.status === 200) ok++;
          else failed++;
        } catch {
          failed++;
        }
      }
    };
    await Promise.all([loop(), loop(), loop(), loop()]);
    assert.ok(crashedAt > 0, 'the crash was triggered');
    assert.equal(p.portero.supervisor.restarts, 1);
    assert.ok(relistenAt > 0 && relistenAt - crashedAt < 1000, `replaced in ${relistenAt - crashedAt} ms`);
    // The failing worker drains: its requests finish, and it never stops listening before its successor does.
    assert.equal(failed, 0, `failed: ${failed}, ok: ${ok}`);
    const after = await request(p.webPort);
    assert.equal(after.status, 200);
  } finally {
    agent.destroy();
    await p.stop();
    await a.close();
  }
});

test('a restart storm backs off, and with a single worker the port still never goes without a listener', async () => {
  const a = await startWhoami('a');
  // One worker: any gap between a worker closing its port and its successor listening would refuse connections.
  const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`http://127.0.0.1:${a.port}`]), { workers: 1 });
  let probing = true;
  try {
    const listened: number[] = [];
    p.portero.supervisor.onMessage((m) => {
      if (m.type === 'listening') listened.push(Date.now());
    });
    let ok = 0;
    const failures: string[] = [];
    // A fresh connection every few milliseconds: ECONNREFUSED would show a moment with no listener.
    const probe = (async () => {
      while (probing) {
        try {
          const r = await request(p.webPort, { agent: false });
          if (r.status === 200) ok++;
          else failures.push(String(r.status));
        } catch (err) {
          failures.push((err as NodeJS.ErrnoException).code ?? String(err));
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const crashes: number[] = [];
    for (let i = 0; i < 3; i++) {
      crashes.push(Date.now());
      p.portero.supervisor.crash(0);
      // Wait for this crash's successor before failing it in turn.
      const want = i + 1;
      const deadline = Date.now() + 6000;
      while (listened.length < want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(listened.length, want, `successor ${want} listened`);
    }
    probing = false;
    await probe;
    assert.deepEqual(failures, []);
    assert.ok(ok > 50, `${ok} probes answered`);
    assert.equal(p.portero.supervisor.restarts, 3);
    // The first restart is immediate; the next ones of the same slot wait 1 s, then 2 s.
    assert.ok(listened[0] - crashes[0] < 1000, `first successor after ${listened[0] - crashes[0]} ms`);
    assert.ok(listened[1] - crashes[1] >= 900, `second successor after ${listened[1] - crashes[1]} ms`);
    assert.ok(listened[2] - crashes[2] >= 1900, `third successor after ${listened[2] - crashes[2]} ms`);
  } finally {
    probing = false;
    await p.stop();
    await a.close();
  }
});

test('SIGTERM: /ping turns 503, in-flight requests finish, new connections are refused, exit code 0', async () => {
  const slow = http.createServer((_req, res) => setTimeout(() => res.end('slow done'), 1500));
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  const backend = (slow.address() as AddressInfo).port;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portero-test-'));
  const file = path.join(dir, 'dynamic.yml');
  writeFileSync(file, `http:\n  routers:\n    r:\n      rule: PathPrefix(\`/\`)\n      service: s\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:${backend}\n`);
  const web = await freePort();
  const api = await freePort();
  const child = spawn(
    process.execPath,
    [CLI, `--entrypoints.web.address=127.0.0.1:${web}`, `--entrypoints.traefik.address=127.0.0.1:${api}`, `--providers.file.filename=${file}`, '--workers=2', '--log.level=INFO'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    for (let i = 0; i < 100 && !/portero is serving/.test(stdout + stderr); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(stdout + stderr, /portero is serving/);
    assert.equal((await request(api, { path: '/ping' })).body, 'OK');
    const inflight = request(web);
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    const ping = await request(api, { path: '/ping' });
    assert.equal(ping.status, 503);
    await assert.rejects(request(web), /ECONNREFUSED/);
    const done = await inflight;
    assert.equal(done.status, 200);
    assert.equal(done.body, 'slow done');
    assert.equal(await exited, 0);
    assert.doesNotMatch(stderr, /Assertion failed|Aborted|uv_loop_close/);
  } finally {
    child.kill('SIGKILL');
    slow.close();
  }
});

test('with `traefik` as its only entry point, portero serves the API, dashboard and ping, runs no worker, and stops cleanly', async () => {
  // Issue 16: start waited for the workers to report listeners they had none of, so the API never opened.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portero-test-'));
  const file = path.join(dir, 'dynamic.yml');
  writeFileSync(file, 'http:\n  routers: {}\n');
  const api = await freePort();
  const child = spawn(
    process.execPath,
    [CLI, '--api.insecure', '--ping', `--entrypoints.traefik.address=127.0.0.1:${api}`, `--providers.file.filename=${file}`, '--workers=2', '--log.level=INFO'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stderr.on('data', (d) => (output += d));
  child.stdout.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    for (let i = 0; i < 100 && !/portero is serving/.test(output); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(output, /portero is serving/);
    // --workers=2 asks for workers, but with no proxy entry point there is nothing for them to serve.
    assert.match(output, /workers=0/);
    const version = await request(api, { path: '/api/version' });
    assert.equal(version.status, 200);
    assert.match(String(version.headers['content-type']), /json/);
    assert.equal(JSON.parse(version.body).Codename, 'portero');
    const entryPoints = await request(api, { path: '/api/entrypoints' });
    assert.equal(entryPoints.status, 200);
    assert.deepEqual(
      (JSON.parse(entryPoints.body) as { name: string }[]).map((e) => e.name),
      ['traefik'],
    );
    assert.equal((await request(api, { path: '/api/rawdata' })).status, 200);
    const ping = await request(api, { path: '/ping' });
    assert.equal(ping.status, 200);
    assert.equal(ping.body, 'OK');
    assert.equal((await request(api, { path: '/dashboard/' })).status, 200);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(output, /stopped/);
    assert.doesNotMatch(output, /Assertion failed|Aborted|uv_loop_close/);
    await assert.rejects(request(api, { path: '/ping' }), /ECONNREFUSED/);
  } finally {
    child.kill('SIGKILL');
  }
});

test('usage errors exit 2 and name the flag', async () => {
  const child = spawn(process.execPath, [CLI, '--no-such-flag=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  assert.equal(code, 2);
  assert.match(stderr, /no-such-flag/);
});

test('a start that fails (a port in use) stops what it started: no worker or listener is left behind', async () => {
  const { default: net } = await import('node:net');
  const { default: pino } = await import('pino');
  const { Portero } = await import('../../src/portero.js');
  const { MemoryProvider, freePorts, testStaticConfig } = await import('../helpers/portero.js');
  // What this process holds, by kind (short-lived requests and timers aside); what earlier tests left may only go away.
  const held = () => {
    const n = new Map<string, number>();
    for (const x of process.getActiveResourcesInfo()) if (x !== 'CloseReq' && x !== 'Timeout') n.set(x, (n.get(x) ?? 0) + 1);
    return n;
  };
  const baseline = held();
  const added = () => [...held()].filter(([kind, n]) => n > (baseline.get(kind) ?? 0)).map(([kind]) => kind);
  for (const busy of ['web', 'traefik'] as const) {
    const [web, api] = await freePorts(2);
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(busy === 'web' ? web : api, '127.0.0.1', r));
    const portero = new Portero({ config: testStaticConfig(web!, api!, 2), log: pino({ level: 'silent' }), providers: [new MemoryProvider({ http: { routers: {}, services: {}, middlewares: {} } })] });
    try {
      await assert.rejects(portero.start(), /cannot listen|EADDRINUSE/);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    // Workers, the API server and timers would show here (a test process would never exit).
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(added(), [], `after a failed start (${busy} port in use)`);
  }
});
