// https:// servers: the connection is TLS, the server's certificate is
// verified (the system's CAs, or --serversTransport.rootCAs instead), and
// --serversTransport.insecureSkipVerify turns verification off, as in
// Traefik. Keep-alive, health checks and the Host header work as for http://.
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { generate } from 'selfsigned';
import { request } from '../helpers/http.js';
import { simpleConfig, startPortero } from '../helpers/portero.js';
import { listenLocal } from '../helpers/streams.js';

describe('https:// servers', () => {
  let backend: https.Server;
  let port = 0;
  let cert = '';
  const seen = { connections: 0, sni: [] as string[], hosts: [] as string[], paths: [] as string[] };

  before(async () => {
    const pems = await generate([{ name: 'commonName', value: 'backend.test' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'subjectAltName', altNames: [{ type: 2, value: 'backend.test' }, { type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
      ],
    });
    cert = pems.cert;
    backend = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
      seen.hosts.push(req.headers.host ?? '');
      seen.paths.push(req.url ?? '');
      res.end(`secure ${req.url}`);
    });
    backend.on('secureConnection', (s) => {
      seen.connections++;
      seen.sni.push(String((s as unknown as { servername?: string | false }).servername || ''));
    });
    port = await listenLocal(backend);
  });

  after(() => backend.close());

  test('with rootCAs: verified, proxied, and kept alive', async () => {
    const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`https://127.0.0.1:${port}`]), {
      tweak: (c) => (c.serversTransport.rootCAs = [cert]),
    });
    try {
      const before = seen.connections;
      for (let i = 0; i < 5; i++) {
        const r = await request(p.webPort, { path: `/r${i}`, headers: { host: 'app.example' } });
        assert.equal(r.status, 200);
        assert.equal(r.body, `secure /r${i}`);
      }
      assert.equal(seen.connections - before, 1, 'one TLS connection, reused');
      assert.equal(seen.hosts.at(-1), 'app.example', 'the client Host is passed on');
    } finally {
      await p.stop();
    }
  });

  test('a certificate nothing vouches for: 502, and the request never reaches the server', async () => {
    const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`https://127.0.0.1:${port}`]));
    try {
      const before = seen.hosts.length;
      const r = await request(p.webPort, { path: '/untrusted' });
      assert.equal(r.status, 502);
      assert.equal(seen.hosts.length, before);
    } finally {
      await p.stop();
    }
  });

  test('insecureSkipVerify: served without verification', async () => {
    const p = await startPortero(simpleConfig('PathPrefix(`/`)', [`https://127.0.0.1:${port}`]), {
      tweak: (c) => (c.serversTransport.insecureSkipVerify = true),
    });
    try {
      const r = await request(p.webPort, { path: '/insecure' });
      assert.equal(r.status, 200);
      assert.equal(r.body, 'secure /insecure');
    } finally {
      await p.stop();
    }
  });

  test('a server named by host gets that name as SNI and in Host when passHostHeader is false; its port 443 would be left out', async () => {
    const config = simpleConfig('PathPrefix(`/`)', [`https://localhost:${port}`]);
    config.http.services!.svc.loadBalancer!.passHostHeader = false;
    const p = await startPortero(config, { tweak: (c) => (c.serversTransport.rootCAs = [cert]) });
    try {
      const r = await request(p.webPort, { path: '/sni' });
      assert.equal(r.status, 200);
      assert.equal(seen.sni.at(-1), 'localhost');
      assert.equal(seen.hosts.at(-1), `localhost:${port}`);
    } finally {
      await p.stop();
    }
  });

  test('a named servers transport: its serverName is the SNI and the name verified, with its own rootCAs', async () => {
    const config = simpleConfig('PathPrefix(`/`)', [`https://127.0.0.1:${port}`]);
    config.http.serversTransports = { named: { serverName: 'backend.test', rootCAs: [cert] } };
    config.http.services!.svc.loadBalancer!.serversTransport = 'named';
    // The static settings trust nothing extra: only the transport makes this work.
    const p = await startPortero(config);
    try {
      const r = await request(p.webPort, { path: '/named' });
      assert.equal(r.status, 200);
      assert.equal(seen.sni.at(-1), 'backend.test');
      // A serverName the certificate does not carry fails verification.
      config.http.serversTransports = { named: { serverName: 'other.test', rootCAs: [cert] } };
      p.provider.set(config);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal((await request(p.webPort, { path: '/wrong-name' })).status, 502);
    } finally {
      await p.stop();
    }
  });

  test('health checks of an https:// server go over TLS with the same trust', async () => {
    const config = simpleConfig('PathPrefix(`/`)', [`https://127.0.0.1:${port}`]);
    config.http.services!.svc.loadBalancer!.healthCheck = { path: '/health', interval: '100ms', timeout: '1s' };
    const p = await startPortero(config, { tweak: (c) => (c.serversTransport.rootCAs = [cert]) });
    try {
      const deadline = Date.now() + 3000;
      while (seen.paths.filter((x) => x === '/health').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(seen.paths.filter((x) => x === '/health').length >= 3, 'the checks reached the server');
      const svc = JSON.parse((await request(p.apiPort, { path: '/api/http/services/svc@file' })).body);
      assert.equal(svc.serverStatus[`https://127.0.0.1:${port}`], 'UP');
      assert.equal((await request(p.webPort, { path: '/after-check' })).status, 200);
    } finally {
      await p.stop();
    }
  });
});
