// Let's Encrypt as Traefik users configure it, against a real ACME server
// (pebble): a router with tls.certresolver gets a certificate over HTTP-01,
// served and verified against pebble's root; acme.json is Traefik's format,
// 0600; a restart serves the stored certificate without a new order; a
// certificate inside the renew window is renewed; a too-open acme.json is
// refused with the reason; two instances sharing acme.json order once and
// answer each other's challenges.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import type { AcmeResolverConfig } from '../../src/config/tls.js';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import { pebbleInstalled, startPebble, type Pebble } from '../helpers/pebble.js';
import { freePorts, startPortero, type TestPortero } from '../helpers/portero.js';
import { listenLocal } from '../helpers/streams.js';

const required = process.env.CI === 'true';
const skip = !pebbleInstalled() && !required ? 'Debian\'s pebble is not installed (apt-get install pebble)' : false;

/** The certificate served for `name`, verified against `ca` when given. */
function handshake(port: number, name: string, ca?: string): Promise<{ serial: string; authorized: boolean; error: string | null }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: name, ...(ca ? { ca } : {}), rejectUnauthorized: false }, () => {
      resolve({ serial: s.getPeerCertificate().serialNumber, authorized: s.authorized, error: s.authorizationError ? String(s.authorizationError) : null });
      s.end();
    });
    s.on('error', reject);
  });
}

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < end) {
    try {
      last = await get();
      if (ok(last)) return last;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

describe('ACME (Let\'s Encrypt) against pebble', { skip }, () => {
  let pebble: Pebble;
  let backend: http.Server;
  let backendPort = 0;
  /** pebble validates HTTP-01 on this port: the challenge entry point of the instance under test. */
  let challengePort = 0;
  let dir = '';

  const dynamic = (withRouter = true): DynamicConfig => ({
    http: {
      routers: withRouter ? { app: { rule: 'Host(`app.test`) || Host(`www.app.test`)', service: 's', tls: { certResolver: 'le' } } } : {},
      services: { s: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${backendPort}` }] } } },
      middlewares: {},
    },
  });

  async function instance(storage: string, opts: { webPort?: number; durationHours?: number; withRouter?: boolean } = {}): Promise<{ p: TestPortero; securePort: number }> {
    let securePort = 0;
    const resolver: AcmeResolverConfig = {
      name: 'le',
      email: 'ops@app.test',
      storage,
      caServer: pebble.directory,
      caCertificates: [pebble.apiCert],
      httpChallengeEntryPoint: 'web',
      keyType: 'EC256',
      certificatesDurationHours: opts.durationHours ?? 1,
    };
    const p = await startPortero(dynamic(opts.withRouter ?? true), {
      extraPorts: 1,
      tweak: (c, [secure]) => {
        securePort = secure!;
        const web = opts.webPort ?? challengePort;
        c.entryPoints.web = { ...c.entryPoints.web!, address: `127.0.0.1:${web}`, port: web };
        c.entryPoints.websecure = { ...c.entryPoints.web, name: 'websecure', address: `127.0.0.1:${secure}`, port: secure!, tls: { explicit: true, domains: [] } };
        c.certificatesResolvers = [resolver];
      },
    });
    return { p, securePort };
  }

  const orders = (p: TestPortero) => p.portero.https.status()[0]!.orders;

  before(async () => {
    [challengePort] = await freePorts(1);
    pebble = await startPebble(challengePort!, 3600);
    backend = http.createServer((req, res) => res.end(`hello ${req.headers['x-forwarded-proto']}`));
    backendPort = await listenLocal(backend);
    dir = mkdtempSync(join(tmpdir(), 'portero-acme-'));
  });

  after(async () => {
    await pebble?.stop();
    backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('issuance: ordered for the Host rule, served and verified against pebble\'s root, stored in Traefik\'s acme.json format', async () => {
    const storage = join(dir, 'one', 'acme.json');
    const { p, securePort } = await instance(storage);
    try {
      const root = await pebble.root();
      const served = await until('a certificate signed by pebble', () => handshake(securePort, 'app.test', root), (h) => h.authorized);
      assert.equal(served.error, null);
      assert.equal((await handshake(securePort, 'www.app.test', root)).serial, served.serial, 'one certificate for both names of the rule');
      assert.equal(orders(p), 1);

      const mode = statSync(storage).mode & 0o777;
      assert.equal(mode, 0o600);
      const stored = JSON.parse(readFileSync(storage, 'utf8')) as Record<string, { Account: Record<string, unknown>; Certificates: Record<string, unknown>[] }>;
      assert.deepEqual(Object.keys(stored), ['le']);
      const { Account, Certificates } = stored.le!;
      assert.equal(Account.Email, 'ops@app.test');
      assert.match(String((Account.Registration as { uri: string }).uri), /^https:\/\/127\.0\.0\.1:\d+\//);
      assert.ok(typeof Account.PrivateKey === 'string' && Account.PrivateKey.length > 1000, 'an RSA 4096 PKCS#1 key, base64');
      assert.equal(Certificates.length, 1);
      const c = Certificates[0]!;
      assert.deepEqual(Object.keys(c).sort(), ['Store', 'certificate', 'domain', 'key']);
      assert.deepEqual(c.domain, { main: 'app.test', sans: ['www.app.test'] });
      assert.equal(c.Store, 'default');
      const pem = Buffer.from(String(c.certificate), 'base64').toString();
      assert.match(pem, /^-----BEGIN CERTIFICATE-----/);
      assert.equal(new X509Certificate(pem).serialNumber, served.serial);
      assert.match(Buffer.from(String(c.key), 'base64').toString(), /-----BEGIN (EC )?PRIVATE KEY-----/);

      // A request over HTTPS reaches the backend.
      const body = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port: securePort, servername: 'app.test', ca: root }, () => {
          s.write('GET / HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n');
        });
        let text = '';
        s.on('data', (d) => (text += d));
        s.on('end', () => resolve(text));
        s.on('error', reject);
      });
      assert.match(body, /hello https$/);
    } finally {
      await p.stop();
    }
  });

  test('a restart serves the stored certificate from its first handshake, without a new order; one in the renew window is renewed', async () => {
    const storage = join(dir, 'one', 'acme.json');
    const before = JSON.parse(readFileSync(storage, 'utf8')) as { le: { Certificates: { certificate: string }[] } };
    const storedSerial = new X509Certificate(Buffer.from(before.le.Certificates[0]!.certificate, 'base64').toString()).serialNumber;
    const again = await instance(storage);
    try {
      assert.equal((await handshake(again.securePort, 'app.test')).serial, storedSerial, 'the first handshake gets it');
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(orders(again.p), 0, 'no new order');
    } finally {
      await again.p.stop();
    }

    // certificatesDuration=24h: Traefik renews 6 hours before expiry, and pebble's certificates live one hour.
    const renewing = await instance(storage, { durationHours: 24 });
    try {
      const renewed = await until('the renewed certificate', () => handshake(renewing.securePort, 'app.test'), (h) => h.serial !== storedSerial);
      assert.equal(orders(renewing.p), 1);
      const after = JSON.parse(readFileSync(storage, 'utf8')) as { le: { Certificates: { certificate: string }[] } };
      assert.equal(after.le.Certificates.length, 1, 'the renewed certificate replaces the old one');
      assert.equal(new X509Certificate(Buffer.from(after.le.Certificates[0]!.certificate, 'base64').toString()).serialNumber, renewed.serial);
    } finally {
      await renewing.p.stop();
    }
  });

  test('an acme.json others can read is refused, with the reason in the API; nothing is ordered', async () => {
    const storage = join(dir, 'open', 'acme.json');
    await import('node:fs').then((fs) => fs.mkdirSync(join(dir, 'open'), { recursive: true }));
    writeFileSync(storage, '{}');
    chmodSync(storage, 0o644);
    const { p } = await instance(storage);
    try {
      const res = await fetch(`http://127.0.0.1:${p.apiPort}/api/overview`);
      assert.equal(res.status, 200);
      const status = p.portero.https.status()[0]!;
      assert.match(status.errors[0]!.message, /permissions 644 for .*acme.json are too open, please use 600/);
      const own = (await (await fetch(`http://127.0.0.1:${p.apiPort}/api/portero`)).json()) as { errors?: { message: string }[] };
      assert.ok(own.errors?.some((e) => /too open/.test(e.message)), 'shown in the API');
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(status.orders, 0);
      assert.equal(readFileSync(storage, 'utf8'), '{}', 'left as it was');
    } finally {
      await p.stop();
    }
  });

  test("Traefik v3's flags, unchanged, on the command line: redirect on web, a certresolver on websecure, pebble as caServer", async () => {
    const [securePort, apiPort] = await freePorts(2);
    const sub = join(dir, 'cli');
    await import('node:fs').then((fs) => fs.mkdirSync(sub, { recursive: true }));
    const caFile = join(sub, 'pebble-api.pem');
    writeFileSync(caFile, pebble.apiCert);
    const dyn = join(sub, 'dynamic.yml');
    writeFileSync(dyn, `http:\n  routers:\n    app:\n      rule: Host(\`cli.app.test\`)\n      service: s\n      entryPoints: [websecure]\n  services:\n    s:\n      loadBalancer:\n        servers: [{url: "http://127.0.0.1:${backendPort}"}]\n`);
    const { spawn } = await import('node:child_process');
    const cli = new URL('../../src/cli.js', import.meta.url).pathname;
    const child = spawn(process.execPath, [
      cli,
      `--entrypoints.web.address=127.0.0.1:${challengePort}`,
      `--entrypoints.websecure.address=127.0.0.1:${securePort}`,
      '--entrypoints.web.http.redirections.entrypoint.to=websecure',
      '--entrypoints.web.http.redirections.entrypoint.scheme=https',
      '--entrypoints.websecure.http.tls.certresolver=le',
      `--entrypoints.traefik.address=127.0.0.1:${apiPort}`,
      '--api.insecure=true',
      `--providers.file.filename=${dyn}`,
      '--certificatesresolvers.le.acme.email=ops@app.test',
      `--certificatesresolvers.le.acme.storage=${join(sub, 'acme.json')}`,
      `--certificatesresolvers.le.acme.caserver=${pebble.directory}`,
      `--certificatesresolvers.le.acme.cacertificates=${caFile}`,
      '--certificatesresolvers.le.acme.httpchallenge.entrypoint=web',
      '--certificatesresolvers.le.acme.keytype=EC384',
      '--workers=1',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += String(d)));
    try {
      const root = await pebble.root();
      await until('the certificate over the CLI', () => handshake(securePort!, 'cli.app.test', root), (h) => h.authorized, 30_000).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}\n${stderr}`, { cause: err });
      });
      const { request } = await import('../helpers/http.js');
      const r = await request(challengePort, { path: '/x?y=1', headers: { host: 'cli.app.test' } });
      assert.equal(r.status, 301);
      assert.equal(r.headers.location, `https://cli.app.test:${securePort}/x?y=1`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  test('two instances sharing acme.json: one orders, the other answers its challenge and serves the result', async () => {
    const storage = join(dir, 'shared', 'acme.json');
    const [otherWeb] = await freePorts(1);
    // B holds pebble's challenge port but has no router yet; A orders, so pebble's check can only be answered by B.
    const b = await instance(storage, { withRouter: false });
    const a = await instance(storage, { webPort: otherWeb });
    try {
      const root = await pebble.root();
      const fromA = await until('A serves the certificate', () => handshake(a.securePort, 'app.test', root), (h) => h.authorized);
      assert.equal(orders(a.p), 1);
      b.p.provider.set(dynamic(true));
      const fromB = await until('B serves the same certificate', () => handshake(b.securePort, 'app.test', root), (h) => h.authorized);
      assert.equal(fromB.serial, fromA.serial);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(orders(b.p), 0, 'B did not order its own');
    } finally {
      await a.p.stop();
      await b.p.stop();
    }

    // Both start at once on a fresh storage: the lock lets one order.
    const fresh = join(dir, 'race', 'acme.json');
    const [x, y] = await Promise.all([instance(fresh), instance(fresh, { webPort: otherWeb })]);
    try {
      const root = await pebble.root();
      const hx = await until('X serves', () => handshake(x.securePort, 'app.test', root), (h) => h.authorized);
      const hy = await until('Y serves', () => handshake(y.securePort, 'app.test', root), (h) => h.authorized);
      assert.equal(hx.serial, hy.serial);
      assert.equal(orders(x.p) + orders(y.p), 1, 'exactly one order');
    } finally {
      await x.p.stop();
      await y.p.stop();
    }
  });
});

describe("an existing Traefik acme.json", () => {
  test('its certificates are served from the first handshake after start, without an order (the CA is not even reachable)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portero-traefik-acme-'));
    try {
      const { makeCert } = await import('../helpers/certs.js');
      const { generateKeyPairSync } = await import('node:crypto');
      const cert = makeCert({ names: ['traefik.test', 'www.traefik.test'], days: 80 });
      const accountKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'der' });
      const storage = join(dir, 'acme.json');
      // As Traefik v2/v3 writes it: Go's JSON of StoredData, sans left out when empty.
      writeFileSync(
        storage,
        JSON.stringify({
          le: {
            Account: {
              Email: 'ops@traefik.test',
              Registration: { body: { status: 'valid', contact: ['mailto:ops@traefik.test'] }, uri: 'https://acme.invalid/acme/acct/1' },
              PrivateKey: accountKey.toString('base64'),
              KeyType: '4096',
            },
            Certificates: [
              { domain: { main: 'traefik.test', sans: ['www.traefik.test'] }, certificate: Buffer.from(cert.cert).toString('base64'), key: Buffer.from(cert.key).toString('base64'), Store: 'default' },
            ],
          },
        }),
        { mode: 0o600 },
      );
      const backend = http.createServer((_req, res) => res.end('from traefik storage'));
      const backendPort = await listenLocal(backend);
      let securePort = 0;
      const p = await startPortero(
        {
          http: {
            routers: {
              app: { rule: 'Host(`traefik.test`) || Host(`www.traefik.test`)', service: 's', tls: { certResolver: 'le' } },
              // Not in the file: its order fails (no CA answers), is retried later, and says so in the API.
              other: { rule: 'Host(`other.test`)', service: 's', tls: { certResolver: 'le' } },
            },
            services: { s: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${backendPort}` }] } } },
            middlewares: {},
          },
        },
        {
          extraPorts: 1,
          tweak: (c, [secure]) => {
            securePort = secure!;
            c.entryPoints.websecure = { ...c.entryPoints.web!, name: 'websecure', address: `127.0.0.1:${secure}`, port: secure!, tls: { explicit: true, domains: [] } };
            c.certificatesResolvers = [
              { name: 'le', email: 'ops@traefik.test', storage, caServer: 'https://127.0.0.1:1/dir', caCertificates: [], httpChallengeEntryPoint: 'web', keyType: 'RSA4096', certificatesDurationHours: 2160 },
            ];
          },
        },
      );
      try {
        const first = await handshake(securePort, 'www.traefik.test', cert.cert);
        assert.equal(first.authorized, true, String(first.error));
        await new Promise((r) => setTimeout(r, 1500));
        const status = p.portero.https.status()[0]!;
        assert.equal(status.orders, 0);
        assert.deepEqual(status.certificates.map((c) => c.domain), [{ main: 'traefik.test', sans: ['www.traefik.test'] }]);
        assert.equal(status.errors.length, 1);
        assert.match(status.errors[0]!.message, /cannot obtain a certificate for other.test from https:\/\/127.0.0.1:1\/dir: .*\(attempt 1, next in \d+ s\)/);
        const own = (await (await fetch(`http://127.0.0.1:${p.apiPort}/api/portero`)).json()) as { errors?: { message: string }[] };
        assert.ok(own.errors?.some((e) => e.message.includes('cannot obtain a certificate for other.test')));
        assert.equal((await handshake(securePort, 'traefik.test', cert.cert)).authorized, true, 'the stored certificate keeps serving');
      } finally {
        await p.stop();
        backend.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
