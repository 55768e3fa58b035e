// Golden: the configuration of Traefik's own KV integration tests
// (integration/redis_test.go and friends: two routers, four services, two
// middlewares), written as a file provider's, and the /api/rawdata that
// Traefik v3 answers for it (integration/testdata/rawdata-redis.json, with
// @redis read as @file). portero must answer the same document, but for the
// one service kind it does not serve (mirroring), which it lists disabled
// with the reason.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import type { StaticConfig } from '../../src/config/static.js';
import { Portero } from '../../src/portero.js';
import { createProviders } from '../../src/providers/index.js';
import { request } from '../helpers/http.js';
import { freePort, testStaticConfig } from '../helpers/portero.js';
import { INTERNAL_MIDDLEWARES, INTERNAL_ROUTERS, INTERNAL_SERVICES, OBSERVABILITY, parseExact } from '../helpers/traefik-goldens.js';

const TLS_DOMAINS = [
  { main: 'aaa.localhost', sans: ['aaa.aaa.localhost', 'bbb.aaa.localhost'] },
  { main: 'bbb.localhost', sans: ['aaa.bbb.localhost', 'bbb.bbb.localhost'] },
];
const LB_DEFAULTS = { strategy: 'wrr', passHostHeader: true, responseForwarding: { flushInterval: '100ms' } };

const CONFIG = {
  http: {
    routers: {
      Router0: { entryPoints: ['web'], middlewares: ['compressor', 'striper'], service: 'simplesvc', rule: 'Host(`kv1.localhost`)', priority: 42, tls: {} },
      Router1: {
        rule: 'Host(`kv2.localhost`)',
        priority: 42,
        tls: { domains: TLS_DOMAINS },
        entryPoints: ['web'],
        service: 'simplesvc',
      },
    },
    services: {
      simplesvc: { loadBalancer: { servers: [{ url: 'http://10.0.1.1:8888' }, { url: 'http://10.0.1.1:8889' }] } },
      srvcA: { loadBalancer: { servers: [{ url: 'http://10.0.1.2:8888' }, { url: 'http://10.0.1.2:8889' }] } },
      srvcB: { loadBalancer: { servers: [{ url: 'http://10.0.1.3:8888' }, { url: 'http://10.0.1.3:8889' }] } },
      Service03: { weighted: { services: [{ name: 'srvcA', weight: 42 }, { name: 'srvcB', weight: 42 }] } },
    },
    middlewares: {
      // The KV form `compress: true`: Traefik's defaults apply.
      compressor: { compress: true },
      striper: { stripPrefix: { prefixes: ['foo', 'bar'] } },
    },
  },
};

const GOLDEN = {
  routers: {
    'Router0@file': {
      entryPoints: ['web'],
      middlewares: ['compressor@file', 'striper@file'],
      service: 'simplesvc',
      rule: 'Host(`kv1.localhost`)',
      priority: 42,
      tls: {},
      observability: OBSERVABILITY,
      status: 'enabled',
      using: ['web'],
    },
    'Router1@file': {
      entryPoints: ['web'],
      service: 'simplesvc',
      rule: 'Host(`kv2.localhost`)',
      priority: 42,
      tls: { domains: TLS_DOMAINS },
      observability: OBSERVABILITY,
      status: 'enabled',
      using: ['web'],
    },
    ...INTERNAL_ROUTERS,
  },
  middlewares: {
    'compressor@file': { compress: { encodings: ['gzip', 'br', 'zstd'] }, status: 'enabled', usedBy: ['Router0@file'] },
    ...INTERNAL_MIDDLEWARES,
    'striper@file': { stripPrefix: { prefixes: ['foo', 'bar'] }, status: 'enabled', usedBy: ['Router0@file'] },
  },
  services: {
    'Service03@file': { weighted: { services: [{ name: 'srvcA', weight: 42 }, { name: 'srvcB', weight: 42 }] }, status: 'enabled' },
    ...INTERNAL_SERVICES,
    'simplesvc@file': {
      loadBalancer: { servers: [{ url: 'http://10.0.1.1:8888' }, { url: 'http://10.0.1.1:8889' }], ...LB_DEFAULTS },
      status: 'enabled',
      usedBy: ['Router0@file', 'Router1@file'],
      serverStatus: { 'http://10.0.1.1:8888': 'UP', 'http://10.0.1.1:8889': 'UP' },
    },
    'srvcA@file': { loadBalancer: { servers: [{ url: 'http://10.0.1.2:8888' }, { url: 'http://10.0.1.2:8889' }], ...LB_DEFAULTS }, status: 'enabled' },
    'srvcB@file': { loadBalancer: { servers: [{ url: 'http://10.0.1.3:8888' }, { url: 'http://10.0.1.3:8889' }], ...LB_DEFAULTS }, status: 'enabled' },
  },
};

/** portero reading `dynamic` from a file, as a user's file provider would (JSON is YAML). */
async function fromFile(dynamic: unknown, tweak: (c: StaticConfig) => void = () => {}): Promise<{ apiPort: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portero-golden-'));
  const file = path.join(dir, 'dynamic.yml');
  writeFileSync(file, JSON.stringify(dynamic));
  const apiPort = await freePort();
  const config = testStaticConfig(await freePort(), apiPort, 1);
  config.ping = false;
  config.providers.file = { filename: file, watch: false };
  tweak(config);
  const log = pino({ level: 'silent' });
  const portero = new Portero({ config, log, providers: createProviders(config, log) });
  await portero.start();
  return {
    apiPort,
    stop: async () => {
      await portero.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test("Traefik's KV integration configuration: portero's /api/rawdata is Traefik's golden", async () => {
  // Traefik's fixture serves TLS routers on its plain `web` entry point; portero serves them on a TLS entry point.
  const p = await fromFile(CONFIG, (c) => (c.entryPoints.web!.tls = { explicit: true, domains: [] }));
  try {
    const raw = parseExact((await request(p.apiPort, { path: '/api/rawdata' })).body) as typeof GOLDEN;
    assert.deepEqual(raw, GOLDEN);
  } finally {
    await p.stop();
  }
});

test('mirroring, which portero does not serve, is listed disabled with the reason, its configuration kept', async () => {
  const config = structuredClone(CONFIG) as { http: { services: Record<string, unknown> } };
  config.http.services.mirror = { mirroring: { service: 'simplesvc', mirrors: [{ name: 'srvcA', percent: 42 }, { name: 'srvcB', percent: 42 }] } };
  const p = await fromFile(config);
  try {
    const mirror = JSON.parse((await request(p.apiPort, { path: '/api/http/services/mirror@file' })).body);
    assert.equal(mirror.status, 'disabled');
    assert.equal(mirror.type, 'mirroring');
    assert.deepEqual(mirror.mirroring.mirrors, [{ name: 'srvcA', percent: 42 }, { name: 'srvcB', percent: 42 }]);
    assert.match(mirror.error[0], /"mirroring" is not supported by portero/);
  } finally {
    await p.stop();
  }
});
