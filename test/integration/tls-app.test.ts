// A TLS entry point's apps across certificate changes, with real TLS
// connections on loopback: a connection made before a change keeps being
// served by the app it was made on (uWS frees a removed name's router, so
// that app must keep its names), new connections get the new certificates,
// and a replaced app is closed, its names freed, once it has been quiet.
import assert from 'node:assert/strict';
import https from 'node:https';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import type uWS from 'uWebSockets.js';
import { makeCert, type TestCert } from '../helpers/certs.js';
import { freePort } from '../helpers/portero.js';
import type { ServedCertificates } from '../../src/tls/store.js';
import type { AppInflight } from '../../src/worker/request-head.js';
import { TlsEntryPoint } from '../../src/worker/tls-app.js';

const QUIET_MS = 400;

function served(def: TestCert, names: Record<string, TestCert>): ServedCertificates {
  return {
    default: { cert: def.certFile, key: def.keyFile },
    names: Object.entries(names).map(([name, c]) => ({ name, files: { cert: c.certFile, key: c.keyFile } })),
  };
}

/** Answers "<path> <app number>", `/slow` after 300 ms, counting in the app's AppInflight as portero's handler does. */
function routesFor(made: AppInflight[]) {
  return (inflight: AppInflight) => {
    const id = made.push(inflight);
    const handler = (res: uWS.HttpResponse, req: uWS.HttpRequest) => {
      inflight.started++;
      const url = req.getUrl();
      const answer = () => res.cork(() => res.end(`${url} ${id}`));
      if (url !== '/slow') return answer();
      inflight.n++;
      let aborted = false;
      res.onAborted(() => (aborted = true));
      setTimeout(() => {
        inflight.n--;
        if (!aborted) answer();
      }, 300);
    };
    return { handler, websockets: { upgrade: (res: uWS.HttpResponse) => void res.close() } as uWS.WebSocketBehavior<never> };
  };
}

function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() > end) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

describe('TLS entry point apps across certificate changes', () => {
  let port = 0;
  let ep: TlsEntryPoint;
  const made: AppInflight[] = [];
  let def: TestCert;
  let a1: TestCert;

  before(async () => {
    port = await freePort();
    def = makeCert({ names: ['default.test'] });
    a1 = makeCert({ names: ['a.test'] });
    ep = new TlsEntryPoint(routesFor(made), served(def, { 'a.test': a1 }), (msg) => assert.fail(msg), QUIET_MS);
    await new Promise<void>((resolve, reject) => ep.listen('127.0.0.1', port, (ok) => (ok ? resolve() : reject(new Error('cannot listen')))));
  });

  after(() => ep.closeAll());

  const get = (agent: https.Agent | false, servername: string, path: string) =>
    new Promise<{ status: number; body: string; serial: string }>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port, servername, path, agent, rejectUnauthorized: false, headers: { host: servername } }, (res) => {
          let body = '';
          const serial = (res.socket as tls.TLSSocket).getPeerCertificate().serialNumber ?? '';
          res.setEncoding('utf8');
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, serial }));
        })
        .on('error', reject);
    });
  const serialOf = (c: TestCert) => new X509Certificate(c.cert).serialNumber;

  test('a name added in place makes no new app', async () => {
    const b = makeCert({ names: ['b.test'] });
    ep.apply(served(def, { 'a.test': a1, 'b.test': b }));
    assert.equal(made.length, 1);
    const r = await get(false, 'b.test', '/b');
    assert.deepEqual([r.status, r.body, r.serial], [200, '/b 1', serialOf(b)]);
    ep.apply(served(def, { 'a.test': a1 }));
    assert.equal(made.length, 2, 'a removed name makes a new app');
    await until('the first app closed', () => ep.retiredApps() === 0);
  });

  test('a connection made before a renewal keeps working on its app; new ones get the new certificate; the old app closes once quiet', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const before = await get(agent, 'a.test', '/before');
    assert.deepEqual([before.status, before.body], [200, '/before 2']);

    const a2 = makeCert({ names: ['a.test'], days: 60 });
    ep.apply(served(def, { 'a.test': a2 }));
    assert.equal(made.length, 3);
    const fresh = await get(false, 'a.test', '/fresh');
    assert.deepEqual([fresh.body, fresh.serial], ['/fresh 3', serialOf(a2)]);

    // The keep-alive connection under the renewed name: its app, its router, every time.
    const slow = get(agent, 'a.test', '/slow');
    for (let i = 0; i < 20; i++) {
      const r = await get(agent, 'a.test', `/old${i}`);
      assert.deepEqual([r.status, r.body, r.serial], [200, `/old${i} 2`, serialOf(a1)]);
    }
    assert.equal((await slow).body, '/slow 2');
    assert.equal(ep.retiredApps(), 1, 'kept while its connection is busy');
    // A request in flight longer than the quiet time keeps the app.
    const longer = new Promise<void>((resolve) => setTimeout(resolve, QUIET_MS + 200));
    while (!(await Promise.race([longer.then(() => true), get(agent, 'a.test', '/slow').then(() => false)]))) {
      assert.equal(ep.retiredApps(), 1);
    }
    agent.destroy();
    await until('the replaced app closed', () => ep.retiredApps() === 0);
    assert.equal(made[1]!.n, 0);
    const after = await get(false, 'a.test', '/after');
    assert.deepEqual([after.status, after.body, after.serial], [200, '/after 3', serialOf(a2)]);
  });

  test('a new default certificate: a new app, the same names', async () => {
    const def2 = makeCert({ names: ['default2.test'] });
    ep.apply(served(def2, { 'a.test': makeCert({ names: ['a.test'] }) }));
    assert.equal(made.length, 4);
    const unknown = await get(false, 'unknown.test', '/u');
    assert.deepEqual([unknown.body, unknown.serial], ['/u 4', serialOf(def2)]);
    assert.equal((await get(false, 'a.test', '/a')).body, '/a 4');
    await until('the replaced app closed', () => ep.retiredApps() === 0);
  });
});
