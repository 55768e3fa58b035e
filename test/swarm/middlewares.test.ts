// Middlewares from labels on a real Swarm (examples/middlewares): whoami
// under /app behind basicAuth with stripPrefix and headers, and the
// dashboard as api@internal behind basicAuth on the proxy's own labels,
// with --api alone (the traefik entry point serves ping, not the API).
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from '../helpers/http.js';
import { buildImages, cleanup, createNetwork, docker, IMAGE, portInUse, PREFIX, removeStack, REPO, swarmSuiteOptions, waitFor, WHOAMI_IMAGE } from './harness.js';

const NET = `${PREFIX}traefik-net`;
const PROXY_STACK = `${PREFIX}mw`;
const APP = `${PREFIX}whoami-mw`;
const AUTH = `Basic ${Buffer.from('admin:portero-demo').toString('base64')}`;

const options = await swarmSuiteOptions();

function stackFile(dir: string, name: string): string {
  const text = readFileSync(path.join(REPO, 'examples/middlewares', name), 'utf8')
    .replace(/image: portero$/m, `image: ${IMAGE}`)
    .replace(/image: traefik\/whoami$/m, `image: ${WHOAMI_IMAGE}`)
    .replaceAll('traefik-net', NET);
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('middlewares from labels on a real Swarm', options, () => {
  before(async () => {
    for (const port of [80, 8080]) {
      if (await portInUse(port)) throw new Error(`port ${port} on 127.0.0.1 is in use: the stack publishes portero there`);
    }
    await removeStack(APP);
    await removeStack(PROXY_STACK);
    await cleanup();
    await buildImages();
    await createNetwork(NET);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'portero-swarm-mw-'));
    await docker(['stack', 'deploy', '--resolve-image', 'never', '-c', stackFile(dir, 'portero.yml'), PROXY_STACK]);
    await docker(['stack', 'deploy', '--resolve-image', 'never', '-c', stackFile(dir, 'whoami.yml'), APP]);
  });

  after(async () => {
    await removeStack(APP);
    await removeStack(PROXY_STACK);
    await cleanup();
  });

  test('whoami under /app: 401 without credentials; with them the prefix is stripped and the headers added', async () => {
    await waitFor('portero to answer /ping on 127.0.0.1:8080', async () => ((await request(8080, { path: '/ping' })).body === 'OK' ? true : undefined), 120_000, 250);
    // Routed, and its replicas answering.
    await waitFor('the app router and its replicas', async () => ((await request(80, { path: '/app/', headers: { host: 'whoami.docker.localhost', authorization: AUTH } })).status === 200 ? true : undefined), 120_000, 250);
    const denied = await request(80, { path: '/app/x', headers: { host: 'whoami.docker.localhost' } });
    assert.equal(denied.headers['www-authenticate'], 'Basic realm="traefik"');
    const r = await request(80, { path: '/app/some/where', headers: { host: 'whoami.docker.localhost', authorization: AUTH } });
    assert.equal(r.status, 200);
    assert.match(r.body, /^GET \/some\/where HTTP\/1\.1$/m);
    assert.match(r.body, /^X-Forwarded-Prefix: \/app$/im);
    assert.equal(r.headers['x-frame-options'], 'DENY');
    assert.equal(r.headers['x-served-by'], 'portero');
    const zipped = await request(80, { path: '/app/zipped', headers: { host: 'whoami.docker.localhost', authorization: AUTH, 'accept-encoding': 'gzip' } });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.match(gunzipSync(zipped.raw).toString(), /^GET \/zipped HTTP\/1\.1$/m);
    // The proxy service's admin middleware, used by the whoami service's admin router.
    assert.equal((await request(80, { path: '/admin/x', headers: { host: 'whoami.docker.localhost' } })).status, 401);
    const admin = await request(80, { path: '/admin/x', headers: { host: 'whoami.docker.localhost', authorization: AUTH } });
    assert.equal(admin.status, 200);
    assert.match(admin.body, /^GET \/admin\/x HTTP\/1\.1$/m);
  });

  test('the dashboard as api@internal behind basicAuth; --api alone keeps the API off the traefik entry point', async () => {
    await waitFor('the dashboard router', async () => ((await request(80, { path: '/api/version', headers: { host: 'traefik.docker.localhost' } })).status === 401 ? true : undefined), 60_000, 250);
    const api = await request(80, { path: '/api/http/routers', headers: { host: 'traefik.docker.localhost', authorization: AUTH } });
    assert.equal(api.status, 200);
    const names = (JSON.parse(api.body) as { name: string }[]).map((x) => x.name);
    assert.ok(names.includes('app@swarm') && names.includes('dashboard@swarm'), names.join(', '));
    const dash = await request(80, { path: '/dashboard/', headers: { host: 'traefik.docker.localhost', authorization: AUTH } });
    assert.equal(dash.status, 200);
    assert.equal((await request(8080, { path: '/api/http/routers' })).status, 404);
  });
});
