// The walkthrough's stack with HTTPS on a real Swarm (examples/https): a
// websecure entry point on 443 with a certificate from the file provider
// (Swarm secrets), the HTTP -> HTTPS redirect on 80, and the walkthrough's
// whoami stack (v1 labels) served over TLS, round robin, from 127.0.0.1.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeCert, type TestCert } from '../helpers/certs.js';
import { request } from '../helpers/http.js';
import { buildImages, cleanup, createNetwork, docker, IMAGE, portInUse, PREFIX, removeStack, REPO, swarmSuiteOptions, waitFor, WHOAMI_IMAGE } from './harness.js';

const NET = `${PREFIX}traefik-net`;
const PROXY_STACK = `${PREFIX}https`;
const APP = `${PREFIX}whoami-tls`;
const HOST = 'whoami.docker.localhost';

const options = await swarmSuiteOptions();



function httpsGet(ca: string): Promise<{ status: number; body: string; cn: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port: 443, servername: HOST, headers: { host: HOST }, ca, agent: false }, (res) => {
      const cn = String((res.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN ?? '');
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cn }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
  });
}

const hostnameOf = (body: string) => /^Hostname: (.*)$/m.exec(body)?.[1]?.trim() ?? '';

describe('the walkthrough with HTTPS on a real Swarm', options, () => {
  let cert: TestCert;

  before(async () => {
    for (const port of [80, 443, 8080]) {
      if (await portInUse(port)) throw new Error(`port ${port} on 127.0.0.1 is in use: the HTTPS stack publishes portero there`);
    }
    await removeStack(APP);
    await removeStack(PROXY_STACK);
    await cleanup();
    await buildImages();
    await createNetwork(NET);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'portero-swarm-https-'));
    cert = makeCert({ names: [HOST], key: 'ec' });
    copyFileSync(cert.certFile, path.join(dir, 'site.crt'));
    copyFileSync(cert.keyFile, path.join(dir, 'site.key'));
    copyFileSync(path.join(REPO, 'examples/https/tls.yml'), path.join(dir, 'tls.yml'));
    const stack = readFileSync(path.join(REPO, 'examples/https/portero.yml'), 'utf8').replace(/image: portero$/m, `image: ${IMAGE}`).replaceAll('traefik-net', NET);
    writeFileSync(path.join(dir, 'portero.yml'), stack);
    const app = readFileSync(path.join(REPO, 'examples/walkthrough/whoami.yml'), 'utf8').replace(/image: emilevauge\/whoami$/m, `image: ${WHOAMI_IMAGE}`).replaceAll('traefik-net', NET);
    writeFileSync(path.join(dir, 'whoami.yml'), app);
    // Secrets and configs are read relative to the stack file.
    await docker(['stack', 'deploy', '--resolve-image', 'never', '-c', path.join(dir, 'portero.yml'), PROXY_STACK]);
    await docker(['stack', 'deploy', '--resolve-image', 'never', '-c', path.join(dir, 'whoami.yml'), APP]);
  });

  after(async () => {
    await removeStack(APP);
    await removeStack(PROXY_STACK);
    await cleanup();
  });

  test('https://whoami.docker.localhost on 127.0.0.1:443: the file certificate by SNI, four replicas in turn', async () => {
    await waitFor('portero to answer /ping on 127.0.0.1:8080', async () => ((await request(8080, { path: '/ping' })).body === 'OK' ? true : undefined), 120_000, 250);
    await waitFor('four whoami replicas behind portero over TLS', async () => {
      const names = new Set<string>();
      for (let i = 0; i < 8; i++) {
        const r = await httpsGet(cert.cert);
        if (r.status === 200) names.add(hostnameOf(r.body));
      }
      return names.size === 4 ? true : undefined;
    }, 120_000, 250);
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await httpsGet(cert.cert);
      assert.equal(r.status, 200);
      assert.equal(r.cn, HOST);
      assert.match(r.body, /X-Forwarded-Proto: https/i);
      seen.push(hostnameOf(r.body));
    }
    assert.equal(new Set(seen).size, 4, seen.join(' '));
    assert.deepEqual(seen.slice(4), seen.slice(0, 4), `round robin order: ${seen.join(' ')}`);
  });

  test('http:// on 127.0.0.1:80 is redirected to https:// with a 301', async () => {
    const r = await request(80, { path: '/some/path?q=1', headers: { host: HOST } });
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, `https://${HOST}/some/path?q=1`);
  });
});
