// The API on the `traefik` entry point: Traefik's endpoints and JSON shapes,
// paging, filters, disabled elements with their errors, server health, the
// providers' state, and 404s.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import type { ConfigError, DynamicConfig } from '../../src/dynamic/model.js';
import { Portero } from '../../src/portero.js';
import type { Provider } from '../../src/providers/provider.js';
import { createProviders } from '../../src/providers/index.js';
import { freePort, startPortero, testStaticConfig } from '../helpers/portero.js';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

async function get(port: number, path: string, method = 'GET'): Promise<Answer> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method, redirect: 'manual' });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

async function until(what: string, fn: () => Promise<boolean>, ms = 5000): Promise<void> {
  const start = Date.now();
  while (!(await fn())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const config = (): DynamicConfig => ({
  http: {
    routers: {
      whoami: { rule: 'Host(`whoami.localhost`)', service: 'whoami' },
      api: { rule: 'Host(`whoami.localhost`) && PathPrefix(`/api`)', service: 'whoami', priority: 50, entryPoints: ['web'] },
      canary: { rule: 'Host(`canary.localhost`)', ruleSyntax: 'v2', service: 'canary' },
      badrule: { rule: 'Host(`x`', service: 'whoami' },
      secured: { rule: 'Host(`s.localhost`)', service: 'whoami', middlewares: ['auth'] },
      lost: { rule: 'Host(`lost.localhost`)', service: 'nowhere' },
      empty: { rule: 'Host(`empty.localhost`)', service: 'empty' },
    },
    services: {
      whoami: { loadBalancer: { servers: [{ url: 'http://127.0.0.1:9101' }, { url: 'http://127.0.0.1:9102', weight: 2 }] } },
      next: { loadBalancer: { servers: [{ url: 'http://127.0.0.1:9103' }], passHostHeader: false } },
      canary: { weighted: { services: [{ name: 'whoami', weight: 3 }, { name: 'next' }] } },
      badurl: { loadBalancer: { servers: [{ url: 'ftp://127.0.0.1' }] } },
      empty: { loadBalancer: { servers: [] } },
    },
    middlewares: { auth: { plugin: { demo: {} } } },
  },
});

test('/, /ping and /dashboard keep their answers; unknown paths are 404 JSON under /api', async () => {
  const p = await startPortero(config());
  try {
    // dashboard_redirect@internal: Traefik's permanent redirect to an absolute URL.
    const root = await get(p.apiPort, '/');
    assert.equal(root.status, 301);
    assert.equal(root.headers.get('location'), `http://127.0.0.1:${p.apiPort}/dashboard/`);
    const ping = await get(p.apiPort, '/ping');
    assert.deepEqual([ping.status, ping.text], [200, 'OK']);
    const dash = await get(p.apiPort, '/dashboard');
    assert.deepEqual([dash.status, dash.headers.get('location')], [301, '/dashboard/']);

    for (const path of ['/api/nope', '/api/', '/api/http/routers/a/b', '/api/http/nothing', '/api/tcp/nothing']) {
      const r = await get(p.apiPort, path);
      assert.equal(r.status, 404, path);
      assert.match(r.headers.get('content-type')!, /^application\/json/, path);
      assert.equal(typeof r.json.message, 'string', path);
    }
    const post = await get(p.apiPort, '/api/rawdata', 'POST');
    assert.equal(post.status, 405);
    assert.equal(typeof post.json.message, 'string');
    assert.equal((await get(p.apiPort, '/nothing')).status, 404);
  } finally {
    await p.stop();
  }
});

test('routers: Traefik fields, effective entry points and priority, disabled ones with their errors', async () => {
  const p = await startPortero(config());
  try {
    const list = await get(p.apiPort, '/api/http/routers');
    assert.equal(list.status, 200);
    assert.equal(list.headers.get('x-next-page'), '1');
    const names = list.json.map((r: { name: string }) => r.name);
    assert.deepEqual(names, [
      'api@file',
      'api@internal',
      'badrule@file',
      'canary@file',
      'dashboard@internal',
      'empty@file',
      'lost@file',
      'ping@internal',
      'secured@file',
      'whoami@file',
    ]);

    const whoami = (await get(p.apiPort, '/api/http/routers/whoami%40file')).json;
    assert.deepEqual(whoami, {
      entryPoints: ['web'],
      service: 'whoami',
      rule: 'Host(`whoami.localhost`)',
      priority: 'Host(`whoami.localhost`)'.length,
      observability: { accessLogs: true, metrics: true, tracing: true, traceVerbosity: 'minimal' },
      status: 'enabled',
      using: ['web'],
      name: 'whoami@file',
      provider: 'file',
      priorityStr: String('Host(`whoami.localhost`)'.length),
    });
    // The unencoded name works too.
    assert.equal((await get(p.apiPort, '/api/http/routers/whoami@file')).json.name, 'whoami@file');
    const api = (await get(p.apiPort, '/api/http/routers/api@file')).json;
    assert.equal(api.priority, 50);
    assert.equal((await get(p.apiPort, '/api/http/routers/canary@file')).json.ruleSyntax, 'v2');

    const disabled = {
      'badrule@file': /invalid rule/,
      'secured@file': /middleware "auth@file" \(plugin\) is not supported yet/,
      'lost@file': /unknown service "nowhere@file"/,
    };
    for (const [name, message] of Object.entries(disabled)) {
      const r = (await get(p.apiPort, `/api/http/routers/${encodeURIComponent(name)}`)).json;
      assert.equal(r.status, 'disabled', name);
      assert.equal(r.error.length, 1, name);
      assert.match(r.error[0], message, name);
      // Traefik fills `using` before building the router: a disabled one keeps it.
      assert.deepEqual(r.using, ['web'], name);
      assert.equal(typeof r.rule, 'string', name);
    }
    // Qualified, as Traefik shows them.
    assert.deepEqual((await get(p.apiPort, '/api/http/routers/secured@file')).json.middlewares, ['auth@file']);

    const missing = await get(p.apiPort, '/api/http/routers/nope%40file');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.message, 'router not found: nope@file');
    assert.equal((await get(p.apiPort, '/api/http/routers/%E0%A4%A')).status, 400);
  } finally {
    await p.stop();
  }
});

test('services: servers with weights, serverStatus from the shared health words, usedBy, weighted, disabled and warning', async () => {
  const p = await startPortero(config());
  try {
    const whoami = (await get(p.apiPort, '/api/http/services/whoami%40file')).json;
    assert.deepEqual(whoami, {
      loadBalancer: {
        // A weight only where one was set; Traefik's defaults filled in.
        servers: [{ url: 'http://127.0.0.1:9101' }, { url: 'http://127.0.0.1:9102', weight: 2 }],
        strategy: 'wrr',
        passHostHeader: true,
        responseForwarding: { flushInterval: '100ms' },
      },
      status: 'enabled',
      serverStatus: { 'http://127.0.0.1:9101': 'UP', 'http://127.0.0.1:9102': 'UP' },
      usedBy: ['api@file', 'badrule@file', 'secured@file', 'whoami@file'],
      name: 'whoami@file',
      provider: 'file',
      type: 'loadbalancer',
    });

    // A server marked down in the shared state shows DOWN.
    const spec = p.portero.publisher.current!.spec.services.find((s) => s.name === 'whoami@file')!;
    assert.equal(spec.kind, 'lb');
    const slot = spec.kind === 'lb' ? spec.servers[1].slot : -1;
    p.portero.publisher.state.setUp(slot, false);
    try {
      const after = (await get(p.apiPort, '/api/http/services/whoami@file')).json;
      assert.deepEqual(after.serverStatus, { 'http://127.0.0.1:9101': 'UP', 'http://127.0.0.1:9102': 'DOWN' });
    } finally {
      p.portero.publisher.state.setUp(slot, true);
    }

    const canary = (await get(p.apiPort, '/api/http/services/canary@file')).json;
    assert.deepEqual(canary, {
      weighted: { services: [{ name: 'whoami', weight: 3 }, { name: 'next', weight: 1 }] },
      status: 'enabled',
      usedBy: ['canary@file'],
      name: 'canary@file',
      provider: 'file',
      type: 'weighted',
    });
    assert.equal((await get(p.apiPort, '/api/http/services/next@file')).json.loadBalancer.passHostHeader, false);

    const bad = (await get(p.apiPort, '/api/http/services/badurl@file')).json;
    assert.equal(bad.status, 'disabled');
    assert.match(bad.error[0], /must be http:\/\/ or https:\/\//);
    assert.deepEqual(bad.loadBalancer.servers, [{ url: 'ftp://127.0.0.1' }]);
    assert.equal(bad.type, 'loadbalancer');
    assert.equal(bad.serverStatus, undefined);

    const empty = (await get(p.apiPort, '/api/http/services/empty@file')).json;
    assert.equal(empty.status, 'warning');
    assert.match(empty.error[0], /no servers/);

    const missing = await get(p.apiPort, '/api/http/services/nope@file');
    assert.deepEqual([missing.status, missing.json.message], [404, 'service not found: nope@file']);
  } finally {
    await p.stop();
  }
});

test('middlewares: configuration, type, usedBy, and the error of one not applied yet', async () => {
  // Without the dashboard: its two internal middlewares have their own test (api-internal).
  const p = await startPortero(config(), { tweak: (c) => (c.api.dashboard = false) });
  try {
    const list = await get(p.apiPort, '/api/http/middlewares');
    assert.equal(list.headers.get('x-next-page'), '1');
    assert.deepEqual(list.json, [
      {
        plugin: { demo: {} },
        error: ['middleware "auth@file" (plugin) is not supported yet: the router is disabled rather than served without it'],
        status: 'disabled',
        usedBy: ['secured@file'],
        name: 'auth@file',
        provider: 'file',
        type: 'plugin',
      },
    ]);
    assert.equal((await get(p.apiPort, '/api/http/middlewares/auth%40file')).json.name, 'auth@file');
    const missing = await get(p.apiPort, '/api/http/middlewares/x@file');
    assert.deepEqual([missing.status, missing.json.message], [404, 'middleware not found: x@file']);
  } finally {
    await p.stop();
  }
});

test('paging: per_page (default 100), page, X-Next-Page; bad values are 400', async () => {
  const routers: DynamicConfig['http']['routers'] = {};
  for (let i = 0; i < 150; i++) routers[`r${String(i).padStart(3, '0')}`] = { rule: `Host(\`h${i}\`)`, service: 's' };
  // No ping and no dashboard: api@internal is the one internal router, first by name.
  const p = await startPortero(
    { http: { routers, services: { s: { loadBalancer: { servers: [{ url: 'http://127.0.0.1:9' }] } } }, middlewares: {} } },
    {
      tweak: (c) => {
        c.ping = false;
        c.api.dashboard = false;
      },
    },
  );
  try {
    const first = await get(p.apiPort, '/api/http/routers');
    assert.equal(first.json.length, 100);
    assert.equal(first.json[0].name, 'api@internal');
    assert.equal(first.headers.get('x-next-page'), '2');
    const second = await get(p.apiPort, '/api/http/routers?page=2');
    assert.equal(second.json.length, 51);
    assert.equal(second.json[0].name, 'r099@file');
    assert.equal(second.headers.get('x-next-page'), '1');

    const small = await get(p.apiPort, '/api/http/routers?per_page=7&page=3');
    assert.deepEqual(small.json.map((r: { name: string }) => r.name), ['r013@file', 'r014@file', 'r015@file', 'r016@file', 'r017@file', 'r018@file', 'r019@file']);
    assert.equal(small.headers.get('x-next-page'), '4');
    const third = await get(p.apiPort, '/api/http/routers?per_page=50&page=3');
    assert.deepEqual([third.json.length, third.headers.get('x-next-page')], [50, '4']);
    const last = await get(p.apiPort, '/api/http/routers?per_page=50&page=4');
    assert.deepEqual([last.json.map((r: { name: string }) => r.name), last.headers.get('x-next-page')], [['r149@file'], '1']);

    for (const q of ['per_page=50&page=5', 'per_page=0', 'page=-1', 'per_page=abc']) {
      const r = await get(p.apiPort, `/api/http/routers?${q}`);
      assert.equal(r.status, 400, q);
      assert.match(r.json.message, /^invalid request/, q);
    }
    // Services and entry points page the same way.
    const eps = await get(p.apiPort, '/api/entrypoints?per_page=1');
    assert.deepEqual([eps.json.length, eps.headers.get('x-next-page')], [1, '2']);
    // s@file, then the internal services (api@internal, noop@internal).
    const svcs = await get(p.apiPort, '/api/http/services?per_page=1');
    assert.deepEqual([svcs.json.length, svcs.headers.get('x-next-page')], [1, '2']);
    // Empty lists are [] with X-Next-Page 1.
    const mws = await get(p.apiPort, '/api/http/middlewares');
    assert.deepEqual([mws.json, mws.headers.get('x-next-page')], [[], '1']);
  } finally {
    await p.stop();
  }
});

test('filters and sorting: status, search, serviceName, middlewareName, sortBy/direction', async () => {
  const p = await startPortero(config());
  try {
    const names = async (q: string, kind = 'routers') =>
      (await get(p.apiPort, `/api/http/${kind}?${q}`)).json.map((r: { name: string }) => r.name);
    assert.deepEqual(await names('status=disabled'), ['badrule@file', 'lost@file', 'secured@file']);
    assert.deepEqual(await names('status=enabled&search=canary'), ['canary@file']);
    assert.deepEqual(await names('search=PATHPREFIX'), ['api@file', 'api@internal', 'dashboard@internal', 'ping@internal']);
    assert.deepEqual(await names('serviceName=canary@file'), ['canary@file']);
    assert.deepEqual(await names('middlewareName=auth@file'), ['secured@file']);
    // Exact int64 priorities: ping (max), api (max - 1), dashboard (max - 2), then the file's.
    assert.deepEqual(await names('sortBy=priority&direction=desc&per_page=5'), ['ping@internal', 'api@internal', 'dashboard@internal', 'api@file', 'whoami@file']);
    assert.deepEqual(await names('sortBy=servers&direction=desc&per_page=2', 'services'), ['whoami@file', 'next@file']);
    assert.deepEqual(await names('status=disabled', 'services'), ['badurl@file']);
    assert.deepEqual(await names('status=warning', 'services'), ['empty@file']);
    assert.deepEqual(await names('search=nex', 'services'), ['next@file']);
  } finally {
    await p.stop();
  }
});

test('entry points, version, overview and rawdata', async () => {
  const p = await startPortero(config(), {
    tweak: (c) => {
      c.entryPoints.web.trustedIPs = ['10.0.0.0/8'];
      c.entryPoints.web.graceTimeoutMs = 90_500;
      c.entryPoints.web.readTimeoutMs = 60_000;
      c.entryPoints.web.redirect = { to: 'traefik', scheme: 'https', permanent: true, priority: 10 };
      c.providers.file = { filename: '/nonexistent/dynamic.yml', watch: false };
    },
  });
  try {
    const eps = await get(p.apiPort, '/api/entrypoints');
    assert.deepEqual(eps.json, [
      {
        address: `127.0.0.1:${p.apiPort}`,
        // The test helper's entry points have no read timeout.
        transport: { lifeCycle: { graceTimeOut: '10s' }, respondingTimeouts: { idleTimeout: '10s' } },
        forwardedHeaders: {},
        http: {},
        name: 'traefik',
      },
      {
        address: `127.0.0.1:${p.webPort}`,
        transport: { lifeCycle: { graceTimeOut: '1m30.5s' }, respondingTimeouts: { readTimeout: '1m0s', idleTimeout: '10s' } },
        forwardedHeaders: { trustedIPs: ['10.0.0.0/8'] },
        http: { redirections: { entryPoint: { to: 'traefik', scheme: 'https', permanent: true, priority: 10 } } },
        name: 'web',
      },
    ]);
    assert.equal((await get(p.apiPort, '/api/entrypoints/web')).json.name, 'web');
    const missing = await get(p.apiPort, '/api/entrypoints/websecure');
    assert.deepEqual([missing.status, missing.json.message], [404, 'entry point not found: websecure']);

    const version = (await get(p.apiPort, '/api/version')).json;
    assert.match(version.Version, /^\d+\.\d+\.\d+/);
    assert.equal(version.Codename, 'portero');
    assert.ok(!Number.isNaN(Date.parse(version.startDate)));

    const overview = (await get(p.apiPort, '/api/overview')).json;
    assert.deepEqual(overview.http, {
      // Seven configured, plus api@internal, dashboard@internal and ping@internal.
      routers: { total: 10, warnings: 0, errors: 3 },
      // Five configured, plus api, dashboard, noop and ping @internal.
      services: { total: 9, warnings: 1, errors: 1 },
      // auth@file, plus dashboard_redirect@internal and dashboard_stripprefix@internal.
      middlewares: { total: 3, warnings: 0, errors: 1 },
    });
    assert.deepEqual(overview.tcp.routers, { total: 0, warnings: 0, errors: 0 });
    assert.deepEqual(overview.udp.services, { total: 0, warnings: 0, errors: 0 });
    assert.deepEqual(overview.features, { tracing: '', metrics: '', accessLog: false });
    assert.deepEqual(overview.providers, ['File']);
    assert.equal(overview.providerStatus, undefined, "portero's provider state is at /api/portero and /api/providers");

    const raw = (await get(p.apiPort, '/api/rawdata')).json;
    assert.equal(raw.routers['whoami@file'].status, 'enabled');
    assert.equal(raw.routers['whoami@file'].name, undefined, 'rawdata elements are not representations');
    assert.match(raw.routers['badrule@file'].error[0], /invalid rule/);
    assert.deepEqual(raw.services['whoami@file'].serverStatus, { 'http://127.0.0.1:9101': 'UP', 'http://127.0.0.1:9102': 'UP' });
    assert.equal(raw.services['badurl@file'].status, 'disabled');
    assert.equal(raw.middlewares['auth@file'].status, 'disabled');
    assert.deepEqual(Object.keys(raw).sort(), ['middlewares', 'routers', 'services'], 'only the sections Traefik has');
    assert.equal(raw.routers['whoami@file'].errors, undefined, "Traefik's field is `error`, only where there is one");

    const own = (await get(p.apiPort, '/api/portero')).json;
    assert.equal(typeof own.generation, 'number');
    assert.ok(own.errors.length >= 4);
    assert.ok(own.errors.every((e: ConfigError) => typeof e.message === 'string' && e.definition === undefined));
    assert.equal(own.providers[0].name, 'file');
    assert.equal(own.providers[0].state, 'ok');

    // The API follows the configuration.
    p.provider.set({ http: { routers: { only: { rule: 'Host(`o`)', service: 'o' } }, services: { o: { loadBalancer: { servers: [] } } }, middlewares: {} } });
    const routers = (await get(p.apiPort, '/api/http/routers')).json;
    assert.deepEqual(routers.map((r: { name: string }) => r.name), ['api@internal', 'dashboard@internal', 'only@file', 'ping@internal']);
    const raw2 = (await get(p.apiPort, '/api/rawdata')).json;
    assert.equal(raw2.tcpRouters, undefined, 'empty sections are left out, as in Traefik');
    assert.deepEqual(Object.keys(raw2.middlewares), ['dashboard_redirect@internal', 'dashboard_stripprefix@internal']);
  } finally {
    await p.stop();
  }
});

test('--api off: only /ping; --api.dashboard=false: API without the dashboard', async () => {
  const off = await startPortero(config(), { tweak: (c) => (c.api.insecure = false) });
  try {
    assert.equal((await get(off.apiPort, '/ping')).status, 200);
    assert.equal((await get(off.apiPort, '/')).status, 404);
    assert.equal((await get(off.apiPort, '/api/overview')).status, 404);
    assert.equal((await get(off.apiPort, '/dashboard/')).status, 404);
  } finally {
    await off.stop();
  }
  const noDash = await startPortero(config(), { tweak: (c) => (c.api.dashboard = false) });
  try {
    assert.equal((await get(noDash.apiPort, '/api/overview')).status, 200);
    assert.equal((await get(noDash.apiPort, '/dashboard/')).status, 404);
    assert.equal((await get(noDash.apiPort, '/')).status, 404);
  } finally {
    await noDash.stop();
  }
});

/** A provider that reports errors with its configuration, as the Swarm provider does for a bad label. */
class ReportingProvider implements Provider {
  constructor(
    readonly name: string,
    private readonly config: DynamicConfig,
    private readonly errors: ConfigError[],
  ) {}
  async start(emit: (c: DynamicConfig, e: ConfigError[]) => void): Promise<void> {
    emit(this.config, this.errors);
  }
  stop(): void {}
}

test('elements a provider left out (a bad label) are listed as disabled, with the provider error', async () => {
  const webPort = await freePort();
  const apiPort = await freePort();
  const cfg = testStaticConfig(webPort, apiPort, 1);
  const provider = new ReportingProvider(
    'swarm',
    { http: { routers: { whoami: { rule: 'Host(`w`)', service: 'whoami' } }, services: { whoami: { loadBalancer: { servers: [{ url: 'http://10.0.0.5:80' }] } } }, middlewares: {} } },
    [
      { provider: 'swarm', element: { kind: 'router', name: 'admin' }, message: 'router "admin" (Swarm service "app_admin"): label "traefik.http.routers.admin.priority": not a number: "high"' },
      { provider: 'swarm', element: { kind: 'service', name: 'whoami' }, message: 'service "whoami" (Swarm service "b"): a warning about it' },
      { provider: 'swarm', message: 'Swarm service "odd": something without an element' },
    ],
  );
  const portero = new Portero({ config: cfg, log: pino({ level: 'silent' }), providers: [provider] });
  await portero.start();
  try {
    const admin = await get(apiPort, '/api/http/routers/admin%40swarm');
    assert.equal(admin.status, 200);
    assert.deepEqual(admin.json, {
      error: ['router "admin" (Swarm service "app_admin"): label "traefik.http.routers.admin.priority": not a number: "high"'],
      status: 'disabled',
      name: 'admin@swarm',
      provider: 'swarm',
    });
    // A provider error about an element that is still served makes it a warning, not disabled.
    const svc = (await get(apiPort, '/api/http/services/whoami@swarm')).json;
    assert.equal(svc.status, 'warning');
    assert.deepEqual(svc.error, ['service "whoami" (Swarm service "b"): a warning about it']);
    const prov = (await get(apiPort, '/api/providers')).json;
    assert.equal(prov[0].name, 'swarm');
    assert.equal(prov[0].state, 'warning');
    assert.equal(prov[0].errors.length, 3);
    const overview = (await get(apiPort, '/api/overview')).json;
    // whoami@swarm and admin@swarm, plus the three internal routers.
    assert.deepEqual(overview.http.routers, { total: 5, warnings: 0, errors: 1 });
  } finally {
    await portero.stop();
  }
});

test("a provider's warnings disable nothing: the element serves with status warning, the provider lists them apart from its errors", async () => {
  const webPort = await freePort();
  const apiPort = await freePort();
  const backend = http.createServer((_req, res) => res.end('served'));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  const fallback = 'Swarm service "whoami": label "traefik.docker.network": network "traefik-net" is not attached to the service; using "whoami_net", as Traefik does';
  const hidden = 'Swarm service "v1": label "traefik.enable": must be true or false, got "anything"; exposedByDefault (false) applies, as in Traefik 1.7';
  const provider = new ReportingProvider(
    'swarm',
    { http: { routers: { whoami: { rule: 'PathPrefix(`/`)', service: 'whoami' } }, services: { whoami: { loadBalancer: { servers: [{ url }] } } }, middlewares: {} } },
    [
      { provider: 'swarm', element: { kind: 'service', name: 'whoami' }, message: fallback, level: 'warning' },
      { provider: 'swarm', element: { kind: 'service', name: 'gone' }, message: 'a warning about a service not defined', level: 'warning' },
      { provider: 'swarm', message: hidden, level: 'warning' },
    ],
  );
  const portero = new Portero({ config: testStaticConfig(webPort, apiPort, 1), log: pino({ level: 'silent' }), providers: [provider] });
  await portero.start();
  try {
    assert.equal((await get(webPort, '/')).text, 'served');
    const svc = (await get(apiPort, '/api/http/services/whoami@swarm')).json;
    assert.deepEqual([svc.status, svc.error], ['warning', [fallback]]);
    assert.equal((await get(apiPort, '/api/http/routers/whoami@swarm')).json.status, 'enabled');
    assert.equal((await get(apiPort, '/api/http/services/gone@swarm')).status, 404, 'a warning makes no disabled element');
    const [prov] = (await get(apiPort, '/api/providers')).json;
    assert.deepEqual([prov.state, prov.errors, prov.warnings], ['warning', [], [fallback, 'a warning about a service not defined', hidden]]);
    const { warnings, errors } = (await get(apiPort, '/api/overview')).json.http.services;
    assert.deepEqual({ warnings, errors }, { warnings: 1, errors: 0 });
  } finally {
    await portero.stop();
    backend.close();
  }
});

test("TCP and UDP elements a provider read are listed in Traefik's TCP and UDP sections, disabled, with the reason", async () => {
  const webPort = await freePort();
  const apiPort = await freePort();
  const pg = 'TCP router "pg" (Swarm service "db"): not served: portero routes HTTP only';
  const provider = new ReportingProvider('swarm', { http: { routers: {}, services: {}, middlewares: {} } }, [
    { provider: 'swarm', element: { kind: 'tcpRouter', name: 'pg' }, message: pg, level: 'warning' },
    { provider: 'swarm', element: { kind: 'tcpService', name: 'pg' }, message: 'TCP service "pg" (Swarm service "db"): not served: portero routes HTTP only', level: 'warning' },
    { provider: 'swarm', element: { kind: 'udpService', name: 'dns' }, message: 'UDP service "dns" (Swarm service "dns"): not served: portero routes HTTP only', level: 'warning' },
  ]);
  const portero = new Portero({ config: testStaticConfig(webPort, apiPort, 1), log: pino({ level: 'silent' }), providers: [provider] });
  await portero.start();
  try {
    const routers = await get(apiPort, '/api/tcp/routers');
    assert.deepEqual(routers.json, [{ error: [pg], status: 'disabled', name: 'pg@swarm', provider: 'swarm' }]);
    assert.deepEqual((await get(apiPort, '/api/tcp/routers/pg@swarm')).json, routers.json[0]);
    assert.equal((await get(apiPort, '/api/tcp/routers/other@swarm')).status, 404);
    assert.deepEqual((await get(apiPort, '/api/udp/services')).json.map((s: { name: string }) => s.name), ['dns@swarm']);
    assert.deepEqual((await get(apiPort, '/api/tcp/middlewares')).json, []);
    assert.deepEqual((await get(apiPort, '/api/udp/routers?status=disabled')).json, []);
    const overview = (await get(apiPort, '/api/overview')).json;
    assert.deepEqual(overview.tcp, { routers: { total: 1, warnings: 0, errors: 1 }, services: { total: 1, warnings: 0, errors: 1 }, middlewares: { total: 0, warnings: 0, errors: 0 } });
    assert.deepEqual(overview.udp.services, { total: 1, warnings: 0, errors: 1 });
    const raw = (await get(apiPort, '/api/rawdata')).json;
    assert.deepEqual(Object.keys(raw.tcpRouters), ['pg@swarm']);
    assert.equal(raw.udpRouters, undefined);
    assert.deepEqual(raw.http, undefined);
  } finally {
    await portero.stop();
  }
});

test('providers: the file provider\'s last error while the file is broken', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portero-api-'));
  const file = path.join(dir, 'dynamic.yml');
  writeFileSync(file, 'http:\n  routers:\n    w:\n      rule: Host(`w`)\n      service: w\n  services:\n    w:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:9\n');
  const webPort = await freePort();
  const apiPort = await freePort();
  const cfg = testStaticConfig(webPort, apiPort, 1);
  cfg.providers.file = { filename: file, watch: true };
  const log = pino({ level: 'silent' });
  const portero = new Portero({ config: cfg, log, providers: createProviders(cfg, log) });
  await portero.start();
  try {
    const ok = (await get(apiPort, '/api/providers')).json;
    assert.equal(ok.length, 1);
    assert.equal(ok[0].name, 'file');
    assert.equal(ok[0].state, 'ok');
    assert.equal(ok[0].filename, file);
    assert.equal(ok[0].watch, true);
    assert.equal(ok[0].lastError, null);
    assert.ok(ok[0].lastUpdate);

    writeFileSync(file, 'http:\n  routers: [unclosed\n');
    await until('the load error', async () => (await get(apiPort, '/api/providers')).json[0].lastError !== null);
    const broken = (await get(apiPort, '/api/providers')).json[0];
    assert.equal(broken.state, 'warning', 'still serving the last good configuration');
    assert.ok(broken.lastError.startsWith(`${file}:`), broken.lastError);
    assert.equal((await get(apiPort, '/api/http/routers/w@file')).json.status, 'enabled');
    assert.equal((await get(apiPort, '/api/portero')).json.providers[0].lastError, broken.lastError);
  } finally {
    await portero.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('providers: the Swarm provider\'s endpoint, reachability, last sync and last error', async () => {
  // A stand-in Docker API with one service, which can be made to vanish.
  let down = false;
  const events: http.ServerResponse[] = [];
  const docker = http.createServer((req, res) => {
    if (down) return void req.socket.destroy();
    const p = (req.url ?? '').replace(/^\/v[\d.]+/, '').split('?')[0];
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (p === '/services') {
      return json([
        {
          ID: 's1',
          Spec: {
            Name: 'app_web',
            Labels: { 'traefik.http.routers.web.rule': 'Host(`web`)', 'traefik.http.services.web.loadbalancer.server.port': '80' },
            TaskTemplate: { Networks: [{ Target: 'n1' }] },
          },
          Endpoint: { VirtualIPs: [{ NetworkID: 'n1', Addr: '10.0.9.2/24' }] },
        },
        {
          ID: 's2',
          Spec: {
            Name: 'app_admin',
            Labels: { 'traefik.http.routers.admin.rule': 'Host(`admin`)', 'traefik.http.services.admin.loadbalancer.server.port': 'eighty' },
            TaskTemplate: { Networks: [{ Target: 'n1' }] },
          },
          Endpoint: { VirtualIPs: [{ NetworkID: 'n1', Addr: '10.0.9.3/24' }] },
        },
      ]);
    }
    if (p === '/tasks') {
      return json([
        { ID: 't1', ServiceID: 's1', Slot: 1, DesiredState: 'running', Status: { State: 'running' }, NetworksAttachments: [{ Network: { ID: 'n1', Spec: { Name: 'net' } }, Addresses: ['10.0.9.5/24'] }] },
      ]);
    }
    if (p === '/networks') return json([{ Id: 'n1', Name: 'net' }]);
    if (p === '/events') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      events.push(res);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"message":"not found"}');
  });
  await new Promise<void>((r) => docker.listen(0, '127.0.0.1', r));
  const endpoint = `tcp://127.0.0.1:${(docker.address() as AddressInfo).port}`;
  const webPort = await freePort();
  const apiPort = await freePort();
  const cfg = testStaticConfig(webPort, apiPort, 1);
  cfg.providers.swarm = { endpoint, exposedByDefault: true, refreshSeconds: 0.2, defaultRule: 'Host(`{{ normalize .Name }}`)', watch: true, dialect: 'v3' };
  const log = pino({ level: 'silent' });
  const portero = new Portero({ config: cfg, log, providers: createProviders(cfg, log) });
  await portero.start();
  try {
    const up = (await get(apiPort, '/api/providers')).json[0];
    assert.equal(up.name, 'swarm');
    assert.equal(up.endpoint, endpoint);
    assert.equal(up.reachable, true);
    assert.equal(up.services, 2);
    assert.equal(up.lastError, null);
    assert.ok(Date.parse(up.lastSync) > 0);
    assert.deepEqual((await get(apiPort, '/api/overview')).json.providers, ['Swarm']);
    const svc = (await get(apiPort, '/api/http/services/web@swarm')).json;
    assert.deepEqual(svc.serverStatus, { 'http://10.0.9.5:80': 'UP' });
    assert.deepEqual(svc.usedBy, ['web@swarm']);
    // A bad label: the element it disables is listed, with the label and the Swarm service named.
    const admin = (await get(apiPort, '/api/http/services/admin@swarm')).json;
    assert.equal(admin.status, 'disabled');
    assert.match(admin.error[0], /app_admin.*traefik\.http\.services\.admin\.loadbalancer\.server\.port.*eighty/);
    assert.equal(admin.type, undefined, 'no configuration, so no type');
    assert.equal((await get(apiPort, '/api/http/routers/admin@swarm')).json.status, 'disabled');
    assert.equal(up.state, 'warning');

    down = true;
    for (const e of events.splice(0)) e.destroy();
    await until('the provider to notice', async () => (await get(apiPort, '/api/providers')).json[0].reachable === false);
    const gone = (await get(apiPort, '/api/providers')).json[0];
    assert.equal(gone.state, 'error');
    assert.equal(typeof gone.lastError, 'string');
    assert.ok(Date.parse(gone.lastSync) >= Date.parse(up.lastSync), 'the last successful sync is kept');
    // The last table keeps serving, and the API still shows it.
    assert.equal((await get(apiPort, '/api/http/routers/web@swarm')).json.status, 'enabled');
  } finally {
    await portero.stop();
    for (const e of events) e.destroy();
    docker.close();
    docker.closeAllConnections();
  }
});
