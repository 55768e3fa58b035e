// TLS entry points end to end, with real TLS clients (Node's tls, curl,
// openssl s_client): SNI picks the certificate (RSA and ECDSA side by side
// under TLS 1.3, wildcards, the default for unknown or missing names),
// requests are forwarded with X-Forwarded-Proto https, entry-point
// redirections answer Traefik's codes, ACME challenges outrank them,
// certificates change live without dropping open connections, and garbage on
// the TLS port closes only that connection.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { StaticConfig } from '../../src/config/static.js';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import { makeCert, makeExpiredCert, type TestCert } from '../helpers/certs.js';
import { request } from '../helpers/http.js';
import { startPortero, type TestPortero } from '../helpers/portero.js';
import { listenLocal } from '../helpers/streams.js';

const run = promisify(execFile);

interface TlsReply {
  cn: string;
  keyType: string;
  protocol: string;
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One HTTPS GET on a fresh TLS connection (no session reuse). */
function httpsGet(port: number, servername: string | null, host: string, path = '/'): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...(servername === null ? {} : { servername }), rejectUnauthorized: false, minVersion: 'TLSv1.3' }, () => {
      const peer = socket.getPeerCertificate();
      const cn = String(peer.subject?.CN ?? '');
      const keyType = peer.pubkey !== undefined && peer.pubkey.length > 100 ? 'rsa' : 'ec';
      const protocol = socket.getProtocol() ?? '';
      const req = http.request({ createConnection: () => socket, host, path, headers: { host, connection: 'close' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ cn, keyType, protocol, status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body }));
      });
      req.on('error', reject);
      req.end();
    });
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
  });
}

/** Only the handshake: the CN of the certificate served for `servername`. */
function servedCn(port: number, servername: string | null): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...(servername === null ? {} : { servername }), rejectUnauthorized: false }, () => {
      const cn = String(socket.getPeerCertificate().subject?.CN ?? '');
      socket.end();
      resolve(cn);
    });
    socket.on('error', reject);
  });
}

async function until(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('TLS entry points', () => {
  let backend: http.Server;
  let backendPort = 0;
  let p: TestPortero;
  let securePort = 0;
  let tempPort = 0;
  let rsa: TestCert;
  let ec: TestCert;
  let wild: TestCert;
  const dynamic = (certs: TestCert[], extra: Partial<DynamicConfig> = {}): DynamicConfig => ({
    http: {
      routers: {
        app: { rule: 'Host(`rsa.test`) || Host(`ec.test`) || Host(`a.wild.test`) || Host(`new.test`)', service: 's', tls: {} },
        plain: { rule: 'PathPrefix(`/`)', service: 's', entryPoints: ['web'], priority: 1 },
      },
      services: { s: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${backendPort}` }] } } },
      middlewares: {},
    },
    tls: { certificates: certs.map((c) => ({ certFile: c.certFile, keyFile: c.keyFile })) },
    ...extra,
  });

  before(async () => {
    backend = http.createServer((req, res) => res.end(JSON.stringify({ url: req.url, headers: req.headers })));
    backendPort = await listenLocal(backend);
    rsa = makeCert({ names: ['rsa.test'], key: 'rsa' });
    ec = makeCert({ names: ['ec.test'], key: 'ec' });
    wild = makeCert({ names: ['*.wild.test'], key: 'ec' });
    const storage = `/tmp/portero-https-test-${process.pid}.json`;
    p = await startPortero(dynamic([rsa, ec, wild]), {
      workers: 2,
      extraPorts: 2,
      tweak: (c: StaticConfig, [a, b]) => {
        securePort = a!;
        tempPort = b!;
        const base = c.entryPoints.web!;
        c.entryPoints.websecure = { ...base, name: 'websecure', address: `127.0.0.1:${securePort}`, port: securePort, tls: { explicit: true, domains: [] } };
        c.entryPoints.web = { ...base, redirect: { to: 'websecure', scheme: 'https', permanent: true, priority: 2147483646 } };
        c.entryPoints.temp = { ...base, name: 'temp', address: `127.0.0.1:${tempPort}`, port: tempPort, redirect: { to: 'websecure', scheme: 'https', permanent: false, priority: 2147483646 } };
        // A resolver only so that `web` answers HTTP-01 challenges; no router uses it.
        c.certificatesResolvers = [
          { name: 'le', email: 'a@b.test', storage, caServer: 'https://127.0.0.1:1/dir', caCertificates: [], httpChallengeEntryPoint: 'web', keyType: 'EC256', certificatesDurationHours: 2160 },
        ];
      },
    });
  });

  after(async () => {
    await p.stop();
    backend.close();
  });

  test('SNI picks RSA and ECDSA certificates under TLS 1.3, and wildcards; no or unknown names get the generated default', async () => {
    const r = await httpsGet(securePort, 'rsa.test', 'rsa.test', '/x?y=1');
    assert.equal(r.protocol, 'TLSv1.3');
    assert.equal(r.cn, 'rsa.test');
    assert.equal(r.keyType, 'rsa');
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.body) as { url: string; headers: Record<string, string> };
    assert.equal(seen.url, '/x?y=1');
    assert.equal(seen.headers['x-forwarded-proto'], 'https');
    assert.equal(seen.headers['x-forwarded-port'], String(securePort));

    const e = await httpsGet(securePort, 'ec.test', 'ec.test');
    assert.deepEqual([e.cn, e.keyType, e.status], ['ec.test', 'ec', 200]);
    const w = await httpsGet(securePort, 'a.wild.test', 'a.wild.test');
    assert.deepEqual([w.cn, w.status], ['*.wild.test', 200]);
    assert.equal(await servedCn(securePort, 'b.c.wild.test'), 'PORTERO DEFAULT CERT', 'a wildcard covers one label');
    assert.equal(await servedCn(securePort, 'unknown.test'), 'PORTERO DEFAULT CERT');
    const noSni = await httpsGet(securePort, null, 'rsa.test');
    assert.equal(noSni.cn, 'PORTERO DEFAULT CERT');
    assert.equal(noSni.status, 200, 'routing follows Host, whatever the certificate');
    // The plain router does not serve on the TLS entry point.
    assert.equal((await httpsGet(securePort, 'unknown.test', 'unknown.test')).status, 404);
  });

  test("/api/certificates: the served certificates as Traefik's API shows them, the generated default left out", async () => {
    const api = async (path: string) => {
      const r = await fetch(`http://127.0.0.1:${p.apiPort}${path}`);
      return { status: r.status, next: r.headers.get('x-next-page'), json: (await r.json()) as Record<string, unknown> & Record<string, unknown>[] };
    };
    const all = await api('/api/certificates');
    assert.deepEqual(all.json.map((c) => c.commonName), ['*.wild.test', 'ec.test', 'rsa.test'], 'by common name');
    const rsaRow = all.json.find((c) => c.commonName === 'rsa.test')!;
    // The test certificates last 30 days: within Traefik's 30-day warning.
    assert.deepEqual([rsaRow.keyType, rsaRow.keySize, rsaRow.sans, rsaRow.status], ['RSA', 2048, ['rsa.test'], 'warning']);
    assert.deepEqual((await api(`/api/certificates/${String(rsaRow.name)}`)).json, rsaRow);
    const missing = await api('/api/certificates/00');
    assert.deepEqual([missing.status, missing.json.message], [404, 'certificate not found: 00']);
    assert.deepEqual((await api('/api/certificates?search=wild')).json.map((c) => c.commonName), ['*.wild.test']);
    assert.deepEqual((await api('/api/certificates?sortBy=cn&direction=desc&per_page=2')).json.map((c) => c.commonName), ['rsa.test', 'ec.test']);
    assert.equal((await api('/api/certificates?per_page=2')).next, '2');
    assert.deepEqual((await api('/api/overview')).json.certificates, { total: 3, warnings: 3, errors: 0 });
    assert.equal((await api('/api/certificates?status=enabled')).json.length, 0);
  });

  test('curl and openssl s_client see the same', async () => {
    const { stdout } = await run('curl', ['-s', '--cacert', ec.certFile, '--resolve', `ec.test:${securePort}:127.0.0.1`, `https://ec.test:${securePort}/curl`]);
    assert.equal((JSON.parse(stdout) as { url: string }).url, '/curl');
    const s = await run('sh', ['-c', `echo | openssl s_client -connect 127.0.0.1:${securePort} -servername rsa.test -tls1_3 2>/dev/null`]);
    assert.match(s.stdout, /subject=CN ?= ?rsa.test/);
  });

  test("redirections: Traefik's codes, host, path and query kept, the target's port; routers with a higher priority win", async () => {
    const get = await request(p.webPort, { path: '/p/a?q=1', headers: { host: 'app.test:80' } });
    assert.equal(get.status, 301);
    assert.equal(get.headers.location, `https://app.test:${securePort}/p/a?q=1`);
    const head = await request(p.webPort, { method: 'HEAD', path: '/', headers: { host: 'app.test' } });
    assert.equal(head.status, 301);
    const post = await request(p.webPort, { method: 'POST', path: '/form', headers: { host: 'app.test' }, body: 'a=1' });
    assert.equal(post.status, 308);
    const temp = await request(tempPort, { path: '/t', headers: { host: '[::1]:8080' } });
    assert.equal(temp.status, 302);
    assert.equal(temp.headers.location, `https://[::1]:${securePort}/t`);
    assert.equal((await request(tempPort, { method: 'PUT', path: '/t', headers: { host: 'x.test' }, body: '' })).status, 307);
  });

  test('ACME HTTP-01 challenges are answered on the challenge entry point before the redirection', async () => {
    p.portero.supervisor.challengesChanged([['tok_en-1', 'tok_en-1.thumbprint']]);
    await until('the challenge reaches the workers', async () => (await request(p.webPort, { path: '/.well-known/acme-challenge/tok_en-1', headers: { host: 'a.test' } })).status === 200);
    for (let i = 0; i < 4; i++) {
      const r = await request(p.webPort, { path: '/.well-known/acme-challenge/tok_en-1', headers: { host: 'a.test' } });
      assert.equal(r.body, 'tok_en-1.thumbprint');
    }
    assert.equal((await request(p.webPort, { path: '/.well-known/acme-challenge/unknown', headers: { host: 'a.test' } })).status, 404);
    assert.equal((await request(tempPort, { path: '/.well-known/acme-challenge/tok_en-1', headers: { host: 'a.test' } })).status, 302, 'only on the challenge entry point');
    p.portero.supervisor.challengesChanged([]);
  });

  test('certificates change live: new ones by SNI, a replaced default, removals; open connections keep working', async () => {
    // A keep-alive TLS connection opened before the changes.
    const agent = new (await import('node:https')).Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
    const viaAgent = () =>
      new Promise<number>((resolve, reject) => {
        (async () => (await import('node:https')).get({ host: '127.0.0.1', port: securePort, servername: 'ec.test', headers: { host: 'ec.test' }, agent, path: '/ka' }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        }).on('error', reject))();
      });
    assert.equal(await viaAgent(), 200);

    const fresh = makeCert({ names: ['new.test'] });
    const ec2 = makeCert({ names: ['ec.test'], days: 60 });
    const def = makeCert({ names: ['my-default.test'] });
    p.provider.set(dynamic([rsa, ec2, wild, fresh], { tls: { certificates: [rsa, ec2, wild, fresh].map((c) => ({ certFile: c.certFile, keyFile: c.keyFile })), defaultCertificate: { certFile: def.certFile, keyFile: def.keyFile } } }));
    await until('the new certificate', async () => (await servedCn(securePort, 'new.test')) === 'new.test');
    await until('the new default', async () => (await servedCn(securePort, 'unknown.test')) === 'my-default.test');
    const serial = () =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: securePort, servername: 'ec.test', rejectUnauthorized: false }, () => {
          resolve(s.getPeerCertificate().serialNumber);
          s.end();
        });
        s.on('error', reject);
      });
    await until('the replaced ec.test certificate', async () => (await serial()) === new (await import('node:crypto')).X509Certificate(ec2.cert).serialNumber);
    for (let i = 0; i < 3; i++) assert.equal(await viaAgent(), 200, 'the connection opened before the changes still serves');

    // Removed: back to the default.
    p.provider.set(dynamic([rsa, ec2, wild], { tls: { certificates: [rsa, ec2, wild].map((c) => ({ certFile: c.certFile, keyFile: c.keyFile })), defaultCertificate: { certFile: def.certFile, keyFile: def.keyFile } } }));
    await until('new.test removed', async () => (await servedCn(securePort, 'new.test')) === 'my-default.test');
    assert.equal(await viaAgent(), 200);
    agent.destroy();
  });

  test('a bad certificate disables only the routers that need it, with the reason in the API', async () => {
    const expired = await makeExpiredCert('old.test');
    const config = dynamic([rsa, ec, wild]);
    config.http.routers.old = { rule: 'Host(`old.test`)', service: 's', tls: {} };
    config.tls!.certificates!.push({ certFile: expired.certFile, keyFile: expired.keyFile });
    p.provider.set(config);
    const res = await fetch(`http://127.0.0.1:${p.apiPort}/api/http/routers/old@file`);
    const body = (await res.json()) as { status: string; error?: string[] };
    assert.equal(body.status, 'disabled');
    const app = (await (await fetch(`http://127.0.0.1:${p.apiPort}/api/http/routers/app@file`)).json()) as { status: string; tls?: object; using?: string[] };
    // Traefik names the TLS options of a router that names none: "default".
    assert.deepEqual([app.status, app.tls, app.using], ['enabled', { options: 'default' }, ['websecure']]);
    assert.match(body.error![0]!, /no valid certificate for old.test: .*expired on 2020-02-01/);
    assert.equal((await httpsGet(securePort, 'rsa.test', 'rsa.test')).status, 200, 'the rest keeps serving');
  });

  test('garbage and plain HTTP on the TLS port close that connection only; a bystander TLS connection keeps serving', async () => {
    const bystander = new (await import('node:https')).Agent({ keepAlive: true, maxSockets: 2, rejectUnauthorized: false });
    const viaBystander = () =>
      new Promise<number>((resolve, reject) => {
        (async () => (await import('node:https')).get({ host: '127.0.0.1', port: securePort, servername: 'rsa.test', headers: { host: 'rsa.test' }, agent: bystander, path: '/b' }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        }).on('error', reject))();
      });
    assert.equal(await viaBystander(), 200);
    const hostile = async (data: Buffer | string): Promise<boolean> =>
      new Promise((resolve) => {
        const s = net.connect(securePort, '127.0.0.1', () => s.write(data));
        s.on('data', () => {});
        s.on('error', () => {});
        s.on('close', () => resolve(true));
        setTimeout(() => {
          s.destroy();
          resolve(false);
        }, 15_000).unref();
      });
    const closed = await Promise.all([
      hostile('GET / HTTP/1.1\r\nHost: rsa.test\r\n\r\n'),
      hostile(Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8])),
      hostile(Buffer.alloc(4096, 0x41)),
    ]);
    assert.deepEqual(closed, [true, true, true], 'each hostile connection is closed');
    for (let i = 0; i < 5; i++) assert.equal(await viaBystander(), 200);
    assert.equal((await httpsGet(securePort, 'ec.test', 'ec.test')).status, 200, 'new connections are served');
    bystander.destroy();
  });
});
