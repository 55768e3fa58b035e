import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalizeDynamicConfig } from '../../src/dynamic/normalize.js';

describe('normalizeDynamicConfig', () => {
  test('Traefik keys in any case', () => {
    const { config, errors, warnings } = normalizeDynamicConfig({
      HTTP: {
        Routers: {
          whoami: {
            Rule: 'Host(`whoami.local`)',
            RuleSyntax: 'V2',
            Service: 'whoami',
            Priority: 10,
            EntryPoints: ['web'],
            Middlewares: ['strip'],
          },
          other: { rule: 'PathPrefix(`/x`)', entrypoints: ['web', 'admin'] },
        },
        services: {
          whoami: {
            loadbalancer: {
              passhostheader: false,
              SERVERS: [{ URL: 'http://10.0.0.1:80', Weight: 3 }, { url: 'https://10.0.0.2' }],
            },
          },
          split: { Weighted: { Services: [{ Name: 'whoami', Weight: 1 }, { name: 'other' }] } },
        },
        middlewares: { strip: { stripPrefix: { prefixes: ['/api'], anyUnknownOption: true } } },
      },
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config, {
      http: {
        routers: {
          whoami: {
            rule: 'Host(`whoami.local`)',
            ruleSyntax: 'v2',
            service: 'whoami',
            priority: 10,
            entryPoints: ['web'],
            middlewares: ['strip'],
          },
          other: { rule: 'PathPrefix(`/x`)', entryPoints: ['web', 'admin'] },
        },
        services: {
          whoami: {
            loadBalancer: {
              passHostHeader: false,
              servers: [{ url: 'http://10.0.0.1:80', weight: 3 }, { url: 'https://10.0.0.2' }],
            },
          },
          split: { weighted: { services: [{ name: 'whoami', weight: 1 }, { name: 'other' }] } },
        },
        middlewares: { strip: { stripPrefix: { prefixes: ['/api'], anyUnknownOption: true } } },
      },
    });
  });

  test('null and empty input give an empty configuration', () => {
    for (const raw of [null, undefined, {}, { http: null }, { http: { routers: null } }]) {
      const r = normalizeDynamicConfig(raw);
      assert.deepEqual(r.config, { http: { routers: {}, services: {}, middlewares: {} } });
      assert.deepEqual(r.errors, []);
    }
  });

  test('a bad element is left out with an error naming it; the rest is kept', () => {
    const { config, errors } = normalizeDynamicConfig(
      {
        http: {
          routers: {
            good: { rule: 'Path(`/`)', service: 'good' },
            norule: { service: 'good' },
            emptyrule: { rule: '' },
            typo: { rule: 'Path(`/`)', servce: 'good' },
            tls: { rule: 'Path(`/`)', tls: { options: 'modern' } },
            badprio: { rule: 'Path(`/`)', priority: 'high' },
            badeps: { rule: 'Path(`/`)', entryPoints: 'web' },
            badsyntax: { rule: 'Path(`/`)', ruleSyntax: 'v9' },
            notamap: 'Path(`/`)',
          },
          services: {
            good: { loadBalancer: { servers: [{ url: 'http://127.0.0.1:8080' }], responseForwarding: { flushInterval: '-1' } } },
            badflush: { loadBalancer: { servers: [], responseForwarding: { flushInterval: 'soon' } } },
            nourl: { loadBalancer: { servers: [{ weight: 1 }] } },
            badurl: { loadBalancer: { servers: [{ url: 'not a url' }] } },
            ftp: { loadBalancer: { servers: [{ url: 'ftp://x' }] } },
            negweight: { loadBalancer: { servers: [{ url: 'http://a', weight: -1 }] } },
            fracweight: { loadBalancer: { servers: [{ url: 'http://a', weight: 1.5 }] } },
            unknownkey: { loadBalancer: { servers: [], strategy: 'p2c' } },
            badsticky: { loadBalancer: { servers: [], sticky: { cookie: { sameSite: 'sometimes' } } } },
            baddomain: { loadBalancer: { servers: [], sticky: { cookie: { domain: 'a b;c' } } } },
            badhc: { loadBalancer: { servers: [], healthCheck: { path: '/h', interval: 'soon' } } },
            grpchc: { loadBalancer: { servers: [], healthCheck: { mode: 'grpc' } } },
            hcpath: { loadBalancer: { servers: [], healthCheck: { path: 'health' } } },
            badpassive: { loadBalancer: { servers: [], passiveHealthCheck: { maxFailedAttempts: 0 } } },
            unknowntop: { loadBalancer: { servers: [] }, extra: 1 },
            both: { loadBalancer: { servers: [] }, weighted: { services: [{ name: 'good' }] } },
            neither: {},
            badhost: { loadBalancer: { servers: [{ url: 'http://a' }], passHostHeader: 'yes' } },
            noname: { weighted: { services: [{ weight: 1 }] } },
            'at@name': { loadBalancer: { servers: [] } },
          },
          middlewares: {
            ok: { headers: { customRequestHeaders: { 'X-A': 'b' } } },
            empty: {},
            scalar: 'stripPrefix',
          },
        },
      },
      { source: '/etc/dyn.yml' },
    );
    assert.deepEqual(Object.keys(config.http.routers), ['good']);
    assert.deepEqual(Object.keys(config.http.services), ['good']);
    assert.deepEqual(Object.keys(config.http.middlewares), ['ok']);

    const byName = new Map(errors.map((e) => [`${e.element?.kind}:${e.element?.name}`, e]));
    const expect: [string, RegExp][] = [
      ['router:norule', /missing "rule"/],
      ['router:emptyrule', /rule must be a non-empty string/],
      ['router:typo', /unknown key "servce"/],
      ['router:tls', /TLS options are not supported/],
      ['router:badprio', /priority must be an integer/],
      ['router:badeps', /entryPoints must be a list/],
      ['router:badsyntax', /ruleSyntax must be one of/],
      ['router:notamap', /must be a mapping/],
      ['service:nourl', /servers\[0\]: missing "url"/],
      ['service:badurl', /servers\[0\]\.url is not a valid URL/],
      ['service:ftp', /http:\/\/ or https:\/\//],
      ['service:negweight', /servers\[0\]\.weight must be a non-negative integer/],
      ['service:fracweight', /servers\[0\]\.weight must be a non-negative integer/],
      ['service:unknownkey', /"strategy" is not supported/],
      ['service:badsticky', /loadBalancer.sticky.cookie.sameSite must be none, lax or strict, got "sometimes"/],
      ['service:baddomain', /loadBalancer.sticky.cookie.domain "a b;c" is not a domain/],
      ['service:badhc', /healthCheck\.interval must be a duration/],
      ['service:grpchc', /mode "grpc" is not supported/],
      ['service:hcpath', /healthCheck\.path must start with \//],
      ['service:badpassive', /maxFailedAttempts must be/],
      ['service:badflush', /responseForwarding.flushInterval must be a duration such as 100ms or -1, got string "soon"/],
      ['service:unknowntop', /unknown key "extra"/],
      ['service:both', /only one of/],
      ['service:neither', /needs a "loadBalancer" or a "weighted"/],
      ['service:badhost', /passHostHeader must be true or false/],
      ['service:noname', /weighted\.services\[0\]: missing "name"/],
      ['service:at@name', /must not contain "@"/],
      ['middleware:empty', /no middleware type/],
      ['middleware:scalar', /must be a mapping/],
    ];
    for (const [key, pattern] of expect) {
      const error = byName.get(key);
      assert.ok(error, `expected an error for ${key}`);
      assert.equal(error.provider, 'file');
      assert.match(error.message, pattern, key);
      assert.match(error.message, /\(in \/etc\/dyn\.yml\)$/);
      const name = key.slice(key.indexOf(':') + 1);
      assert.ok(error.message.includes(`"${name}"`), `message names the element: ${error.message}`);
    }
    assert.equal(errors.length, expect.length);
  });

  test('servers transports: serverName, insecureSkipVerify, rootCAs; other Traefik keys disable the transport by name', () => {
    const r = normalizeDynamicConfig({
      http: {
        serversTransports: {
          ok: { ServerName: 'api.internal', insecureSkipVerify: 'true', rootCAs: ['/etc/ca.pem'] },
          timeouts: { forwardingTimeouts: { dialTimeout: '1s' } },
          piped: { pipelining: 16 },
          overPiped: { pipelining: 'many' },
        },
      },
    });
    assert.deepEqual(r.config.http.serversTransports, { ok: { serverName: 'api.internal', insecureSkipVerify: true, rootCAs: ['/etc/ca.pem'] }, piped: { pipelining: 16 } });
    assert.equal(r.errors.length, 2);
    assert.deepEqual(r.errors[0]!.element, { kind: 'serversTransport', name: 'timeouts' });
    assert.match(r.errors[0]!.message, /"forwardingTimeouts" is not supported by portero/);
    assert.deepEqual(r.errors[1]!.element, { kind: 'serversTransport', name: 'overPiped' });
    assert.match(r.errors[1]!.message, /pipelining must be a whole number of requests per connection from 0 \(off\) to 1024, got string "many"/);
  });

  test('tcp and udp are ignored with a warning, so are TLS options; http must be a mapping', () => {
    const r = normalizeDynamicConfig({
      tcp: { routers: {} },
      udp: {},
      tls: { certificates: [], options: { modern: { minVersion: 'VersionTLS13' } } },
      http: { routers: { a: { rule: 'Path(`/`)' } }, serversTransports: {} },
    });
    assert.deepEqual(Object.keys(r.config.http.routers), ['a']);
    assert.equal(r.errors.length, 0);
    assert.equal(r.warnings.length, 3);
    assert.ok(r.warnings.some((w) => w.includes('tls.options')));
    assert.ok(r.warnings.some((w) => w.includes('"tcp"')));

    const bad = normalizeDynamicConfig({ http: { routers: ['a'] } });
    assert.equal(bad.errors.length, 1);
    assert.equal(bad.errors[0]!.element, undefined);
    assert.match(bad.errors[0]!.message, /http\.routers must be a mapping/);
  });

  test('names such as __proto__ are plain names', () => {
    const raw = JSON.parse('{"http":{"routers":{"__proto__":{"rule":"Path(`/`)"}}}}') as unknown;
    const { config } = normalizeDynamicConfig(raw);
    assert.ok(Object.hasOwn(config.http.routers, '__proto__'));
    assert.equal(Object.getPrototypeOf(config.http.routers), Object.prototype);
  });

  test('the provider name is configurable', () => {
    const { errors } = normalizeDynamicConfig({ http: { routers: { x: {} } } }, { provider: 'swarm' });
    assert.equal(errors[0]!.provider, 'swarm');
    assert.deepEqual(errors[0]!.element, { kind: 'router', name: 'x' });
  });
});

test('health checks: Traefik v3 keys, any case, durations kept as written', () => {
  const r = normalizeDynamicConfig({
    http: {
      services: {
        api: {
          loadBalancer: {
            servers: [{ url: 'http://10.0.0.1:80' }],
            healthcheck: { Path: '/health', interval: '5s', timeout: 2, port: '8081', headers: { 'X-Probe': 'portero' }, method: 'head', status: '204', followRedirects: 'false' },
            passiveHealthCheck: { failureWindow: '3s', maxFailedAttempts: '2' },
          },
        },
      },
    },
  });
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.config.http.services.api.loadBalancer, {
    servers: [{ url: 'http://10.0.0.1:80' }],
    healthCheck: { path: '/health', interval: '5s', timeout: '2s', port: 8081, headers: { 'X-Probe': 'portero' }, method: 'HEAD', status: 204, followRedirects: false },
    passiveHealthCheck: { failureWindow: '3s', maxFailedAttempts: 2 },
  });
});
