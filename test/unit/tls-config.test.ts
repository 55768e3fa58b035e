// HTTPS settings: Traefik v3 flags, v1's entry point strings, the dynamic
// `tls` section and router `tls`, and how the compiler places TLS routers.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigUsageError, parseStaticConfig, type StaticConfig } from '../../src/config/index.js';
import type { EntryPointTls } from '../../src/config/tls.js';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import { normalizeDynamicConfig } from '../../src/dynamic/normalize.js';
import { compileTable } from '../../src/table/compile.js';
import { LoadBalancerCompiler } from '../../src/table/load-balancers.js';
import { SlotAllocator, SlotPool } from '../../src/shared/slots.js';
import { CertificateLoader } from '../../src/tls/loader.js';
import { CertificateFiles } from '../../src/tls/files.js';
import { CertificateStore } from '../../src/tls/store.js';
import { loadCertificate } from '../../src/tls/certificate.js';
import { makeCert, makeExpiredCert } from '../helpers/certs.js';

const parse = (...argv: string[]): StaticConfig => parseStaticConfig(argv, {});

function fails(argv: string[], ...parts: string[]): void {
  assert.throws(
    () => parseStaticConfig(argv, {}),
    (err: unknown) => err instanceof ConfigUsageError && parts.every((p) => err.message.includes(p)),
    `expected a usage error mentioning ${parts.join(', ')}`,
  );
}

describe('static HTTPS settings', () => {
  test("Traefik v3's HTTPS stack: websecure by http.tls.certresolver, redirect from web, an ACME resolver", () => {
    const c = parse(
      '--entrypoints.web.address=:80',
      '--entrypoints.websecure.address=:443',
      '--entrypoints.web.http.redirections.entrypoint.to=websecure',
      '--entrypoints.web.http.redirections.entrypoint.scheme=https',
      '--entrypoints.websecure.http.tls.certresolver=le',
      '--entrypoints.websecure.http.tls.domains[0].main=example.com',
      '--entrypoints.websecure.http.tls.domains[0].sans=www.example.com,api.example.com',
      '--certificatesresolvers.le.acme.email=ops@example.com',
      '--certificatesresolvers.le.acme.storage=/letsencrypt/acme.json',
      '--certificatesresolvers.le.acme.httpchallenge.entrypoint=web',
      '--certificatesresolvers.le.acme.keyType=EC256',
    );
    assert.equal(c.entryPoints.web!.tls, null);
    assert.deepEqual(c.entryPoints.websecure!.tls, {
      explicit: true,
      certResolver: 'le',
      domains: [{ main: 'example.com', sans: ['www.example.com', 'api.example.com'] }],
    });
    assert.deepEqual(c.entryPoints.web!.redirect, { to: 'websecure', scheme: 'https', permanent: true, priority: 2147483646 });
    assert.equal(c.entryPoints.traefik!.tls, null);
    assert.deepEqual(c.certificatesResolvers, [
      {
        name: 'le',
        email: 'ops@example.com',
        storage: '/letsencrypt/acme.json',
        caServer: 'https://acme-v02.api.letsencrypt.org/directory',
        caCertificates: [],
        httpChallengeEntryPoint: 'web',
        keyType: 'EC256',
        certificatesDurationHours: 2160,
      },
    ]);
  });

  test('port 443 alone makes a TLS entry point (not explicit); http.tls=false keeps it plain', () => {
    const c = parse('--entrypoints.websecure.address=:443');
    assert.deepEqual(c.entryPoints.websecure!.tls, { explicit: false, domains: [] });
    assert.equal(parse('--entrypoints.websecure.address=:443', '--entrypoints.websecure.http.tls=false').entryPoints.websecure!.tls, null);
    assert.deepEqual(parse('--entrypoints.alt.address=:8443', '--entrypoints.alt.http.tls').entryPoints.alt!.tls, { explicit: true, domains: [] });
  });

  test('redirections: permanent=false, a priority, and an unknown target', () => {
    const c = parse('--entrypoints.web.address=:80', '--entrypoints.websecure.address=:443', '--entrypoints.web.http.redirections.entrypoint.to=websecure', '--entrypoints.web.http.redirections.entrypoint.permanent=false', '--entrypoints.web.http.redirections.entrypoint.priority=10');
    assert.deepEqual(c.entryPoints.web!.redirect, { to: 'websecure', scheme: 'https', permanent: false, priority: 10 });
    fails(['--entrypoints.web.address=:80', '--entrypoints.web.http.redirections.entrypoint.to=nope'], 'unknown entry point "nope"');
  });

  test('resolvers: email and an HTTP-01 entry point are required; tlsChallenge and dnsChallenge are refused with the reason', () => {
    fails(['--certificatesresolvers.le.acme.httpchallenge.entrypoint=web'], '--certificatesresolvers.le.acme.email is required');
    fails(['--certificatesresolvers.le.acme.email=a@b.c'], 'httpChallenge.entryPoint');
    fails(['--certificatesresolvers.le.acme.tlschallenge=true'], 'ALPN');
    fails(['--certificatesresolvers.le.acme.dnschallenge.provider=cloudflare'], 'DNS-01');
    fails(['--certificatesresolvers.le.acme.email=a@b.c', '--certificatesresolvers.le.acme.httpchallenge.entrypoint=web', '--certificatesresolvers.le.acme.keytype=DSA'], 'EC256');
    fails(['--entrypoints.websecure.address=:443', '--entrypoints.websecure.http.tls.certresolver=nope'], 'unknown resolver "nope"');
  });

  test("Traefik v1: --entryPoints='Name:... Address:... TLS' (repeated), Redirect.EntryPoint, --defaultEntryPoints", () => {
    const c = parse(
      '--entryPoints=Name:http Address::80 Redirect.EntryPoint:https',
      '--entryPoints=Name:https Address::443 TLS:/certs/a.crt,/certs/a.key',
      '--defaultentrypoints=http,https',
    );
    assert.deepEqual(Object.keys(c.entryPoints), ['http', 'https', 'traefik']);
    assert.equal(c.entryPoints.http!.port, 80);
    assert.deepEqual(c.entryPoints.http!.redirect, { to: 'https', scheme: 'https', permanent: true, priority: 2147483646 });
    assert.deepEqual(c.entryPoints.https!.tls, { explicit: true, domains: [] });
    assert.deepEqual(c.staticCertificates, [{ certFile: '/certs/a.crt', keyFile: '/certs/a.key' }]);
    assert.deepEqual(c.defaultEntryPoints, ['http', 'https']);
    fails(['--entryPoints=Name:http Address::80 ProxyProtocol.TrustedIPs:10.0.0.1'], 'ProxyProtocol', 'not supported');
    fails(['--entryPoints=Address::80'], 'no Name:');
  });

  test('the YAML config file spells domains as a list; environment variables work too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portero-tls-config-'));
    try {
      const file = join(dir, 'traefik.yml');
      writeFileSync(
        file,
        [
          'entryPoints:',
          '  websecure:',
          '    address: ":8443"',
          '    http:',
          '      tls:',
          '        certResolver: le',
          '        domains:',
          '          - main: example.com',
          '            sans: [www.example.com]',
          'certificatesResolvers:',
          '  le:',
          '    acme:',
          '      email: ops@example.com',
          '      httpChallenge:',
          '        entryPoint: websecure',
          '',
        ].join('\n'),
      );
      const c = parse(`--configFile=${file}`);
      assert.deepEqual(c.entryPoints.websecure!.tls, { explicit: true, certResolver: 'le', domains: [{ main: 'example.com', sans: ['www.example.com'] }] });
      assert.equal(c.certificatesResolvers[0]!.storage, 'acme.json');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const env = parseStaticConfig([], { TRAEFIK_ENTRYPOINTS_WEBSECURE_ADDRESS: ':443' });
    assert.deepEqual(env.entryPoints.websecure!.tls, { explicit: false, domains: [] });
  });
});

describe('dynamic tls', () => {
  test('tls.certificates and the default store; options are ignored with a warning; a bad entry names itself', () => {
    const r = normalizeDynamicConfig({
      tls: {
        certificates: [{ certFile: '/a.crt', keyFile: '/a.key', stores: ['default'] }, { certFile: '/b.crt' }],
        stores: { default: { defaultCertificate: { certFile: '/d.crt', keyFile: '/d.key' } } },
        options: { default: { minVersion: 'VersionTLS12' } },
      },
    });
    assert.deepEqual(r.config.tls, { certificates: [{ certFile: '/a.crt', keyFile: '/a.key' }], defaultCertificate: { certFile: '/d.crt', keyFile: '/d.key' } });
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]!.message, /tls.certificates\[1\]: needs certFile and keyFile/);
    assert.ok(r.warnings.some((w) => w.includes('tls.options')));
  });
});

describe('compiling TLS routers', () => {
  const eps = ['web', 'websecure'];
  const epTls = (websecure: EntryPointTls | null) => new Map<string, EntryPointTls | null>([['web', null], ['websecure', websecure]]);
  const svc = { loadBalancer: { servers: [{ url: 'http://127.0.0.1:1' }] } };
  function compile(dyn: DynamicConfig, websecure: EntryPointTls | null = { explicit: false, domains: [] }, extra: { resolvers?: string[]; loader?: CertificateLoader } = {}) {
    const services = new SlotAllocator(100);
    return compileTable({
      providers: new Map([['file', dyn]]),
      entryPoints: eps,
      loadBalancers: new LoadBalancerCompiler(new SlotPool(100)),
      serviceSlots: (k) => services.assign(k),
      entryPointTls: epTls(websecure),
      resolvers: extra.resolvers ?? [],
      certificates: extra.loader ?? new CertificateLoader(),
    });
  }
  const routersOf = (c: ReturnType<typeof compile>) => Object.fromEntries(c.spec.routers.map((r) => [r.name, r.entryPoints]));

  test('a TLS router serves on TLS entry points only; a plain one on plain ones, and on a port-443 one only when it names it', () => {
    const c = compile({
      http: {
        routers: {
          secure: { rule: 'Host(`a.test`)', service: 's', tls: {} },
          plain: { rule: 'Host(`a.test`)', service: 's' },
          named: { rule: 'Host(`b.test`)', service: 's', entryPoints: ['websecure'] },
        },
        services: { s: svc },
        middlewares: {},
      },
    });
    assert.deepEqual(c.errors, []);
    assert.deepEqual(routersOf(c), { 'named@file': ['websecure'], 'plain@file': ['web'], 'secure@file': ['websecure'] });
  });

  test("v1: a frontend on entryPoints http,https serves on both, over TLS on the TLS one", () => {
    const c = compile(
      { http: { routers: { v1: { rule: 'Host:a.test', ruleSyntax: 'v1', service: 's', entryPoints: ['web', 'websecure'] } }, services: { s: svc }, middlewares: {} } },
      { explicit: true, domains: [] },
    );
    assert.deepEqual(routersOf(c), { 'v1@file': ['web', 'websecure'] });
  });

  test('http.tls on the entry point makes every router on it a TLS router, with its resolver', () => {
    const c = compile(
      { http: { routers: { plain: { rule: 'Host(`a.test`) || Host(`b.test`)', service: 's' } }, services: { s: svc }, middlewares: {} } },
      { explicit: true, certResolver: 'le', domains: [] },
      { resolvers: ['le'] },
    );
    assert.deepEqual(routersOf(c), { 'plain@file': ['web', 'websecure'] });
    assert.deepEqual(c.tls.acme.get('le'), [{ main: 'a.test', sans: ['b.test'] }]);
  });

  test('a TLS router whose entry points all serve plain HTTP, or with an unknown resolver, is disabled with the reason', () => {
    const c = compile(
      {
        http: {
          routers: {
            plainonly: { rule: 'Host(`a.test`)', service: 's', tls: {}, entryPoints: ['web'] },
            unknown: { rule: 'Host(`a.test`)', service: 's', tls: { certResolver: 'nope' } },
            domains: { rule: 'Host(`a.test`)', service: 's', tls: { certResolver: 'le', domains: [{ main: 'x.test', sans: ['y.test'] }] } },
            wildcard: { rule: 'Host(`a.test`)', service: 's', tls: { certResolver: 'le', domains: [{ main: '*.x.test' }] } },
          },
          services: { s: svc },
          middlewares: {},
        },
      },
      undefined,
      { resolvers: ['le'] },
    );
    assert.deepEqual(routersOf(c), { 'domains@file': ['websecure'] });
    assert.match(c.routerStatus.get('plainonly@file')!.errors[0]!, /serve plain HTTP: set --entrypoints.<name>.http.tls=true/);
    assert.match(c.routerStatus.get('unknown@file')!.errors[0]!, /unknown certificate resolver "nope" \(configured: le\)/);
    assert.match(c.routerStatus.get('wildcard@file')!.errors[0]!, /\*\.x\.test: a wildcard certificate needs the DNS-01 challenge/);
    assert.deepEqual(c.tls.acme.get('le'), [{ main: 'x.test', sans: ['y.test'] }]);
  });

  test('a bad certificate disables only the routers whose names only it covers; the good ones load', async () => {
    const good = makeCert({ names: ['good.test'] });
    const expired = await makeExpiredCert('old.test');
    const other = makeCert({ names: ['mismatch.test'] });
    const c = compile({
      http: {
        routers: {
          good: { rule: 'Host(`good.test`)', service: 's', tls: {} },
          old: { rule: 'Host(`old.test`)', service: 's', tls: {} },
          mismatch: { rule: 'Host(`mismatch.test`)', service: 's', tls: {} },
          nocert: { rule: 'Host(`none.test`)', service: 's', tls: {} },
        },
        services: { s: svc },
        middlewares: {},
      },
      tls: {
        certificates: [
          { certFile: good.certFile, keyFile: good.keyFile },
          { certFile: expired.certFile, keyFile: expired.keyFile },
          { certFile: other.certFile, keyFile: good.keyFile },
          { certFile: '/nonexistent/x.crt', keyFile: '/nonexistent/x.key' },
        ],
      },
    });
    assert.deepEqual(Object.keys(routersOf(c)).sort(), ['good@file', 'nocert@file']);
    assert.match(c.routerStatus.get('old@file')!.errors[0]!, /no valid certificate for old.test: .*expired on 2020-02-01/);
    assert.match(c.routerStatus.get('mismatch@file')!.errors[0]!, /the private key does not match the certificate for mismatch.test/);
    assert.deepEqual(c.tls.certificates.map((x) => x.names), [['good.test']]);
    assert.ok(c.errors.some((e) => e.element?.kind === 'certificate' && /cannot read .*x.crt: ENOENT/.test(e.message)));
  });

  test('inline PEM certificates and a configured default certificate', () => {
    const a = makeCert({ names: ['inline.test', '*.wild.test'], key: 'rsa' });
    const d = makeCert({ names: ['default.test'] });
    const c = compile({
      http: { routers: {}, services: {}, middlewares: {} },
      tls: { certificates: [{ certFile: a.cert, keyFile: a.key }], defaultCertificate: { certFile: d.certFile, keyFile: d.keyFile } },
    });
    assert.deepEqual(c.tls.certificates[0]!.names, ['inline.test', '*.wild.test']);
    assert.equal(c.tls.certificates[0]!.keyType, 'rsa');
    assert.deepEqual(c.tls.defaultCertificate!.names, ['default.test']);
  });
});

describe('the certificates workers load', () => {
  test('written to a private directory (0700, files 0600), one per name, the longest-lived winning; removed on close', () => {
    const files = new CertificateFiles();
    const store = new CertificateStore(files);
    const seen: unknown[] = [];
    store.onChange((s) => seen.push(s));
    const a = makeCert({ names: ['a.test', '*.b.test'], days: 10 });
    const a2 = makeCert({ names: ['a.test'], days: 40 });
    const d = makeCert({ names: ['default.test'] });
    store.set('file', [loadCertificate(a.cert, a.key, 'a'), loadCertificate(a2.cert, a2.key, 'a2')]);
    assert.equal(seen.length, 0, 'nothing is served before there is a default');
    store.setDefault(loadCertificate(d.cert, d.key, 'd'));
    const served = store.current!;
    assert.deepEqual(served.names.map((n) => n.name), ['*.b.test', 'a.test']);
    assert.notEqual(served.names[1]!.files.cert, served.names[0]!.files.cert, 'a.test comes from the longer-lived certificate');
    assert.equal(statSync(files.dir).mode & 0o777, 0o700);
    for (const f of [served.default.cert, served.default.key, served.names[1]!.files.key]) assert.equal(statSync(f).mode & 0o777, 0o600);
    store.set('file', [loadCertificate(a.cert, a.key, 'a'), loadCertificate(a2.cert, a2.key, 'a2')]);
    assert.equal(seen.length, 1, 'the same set is not published twice');
    store.close();
    assert.throws(() => statSync(files.dir), /ENOENT/);
  });
});
