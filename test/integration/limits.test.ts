// rateLimit and inFlightReq on real sockets through a portero with 2 workers:
// each request on a connection of its own, so they land on both workers, and
// the limits hold for the instance; slots come back however a request ends;
// other sources, hosts and routers are not held back.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startBystanders } from '../helpers/bystanders.js';
import { request, type Reply } from '../helpers/http.js';
import { startPortero, type TestPortero } from '../helpers/portero.js';
import { listenLocal } from '../helpers/streams.js';

/** Polls `check` every 10 ms for up to `ms`; true once it holds. */
async function eventually(check: () => boolean | Promise<boolean>, ms = 3000): Promise<boolean> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return check();
}

const tally = (replies: Reply[]) => replies.reduce<Record<number, number>>((n, r) => ({ ...n, [r.status]: (n[r.status] ?? 0) + 1 }), {});

describe('rateLimit and inFlightReq through portero (2 workers)', () => {
  let backend: http.Server;
  let p: TestPortero;
  /** Responses to /slow, held until a test ends them. */
  const held: http.ServerResponse[] = [];
  /**
   * Ends the held response to `path`: requests on two connections may reach
   * the backend in either order, so they are ended by path, not by arrival.
   */
  const release = (path: string) => {
    const i = held.findIndex((r) => r.req.url === path);
    assert.ok(i >= 0, `${path} is held at the backend`);
    held.splice(i, 1)[0]!.end('done');
  };
  let closedEarly = 0;

  before(async () => {
    backend = http.createServer((req, res) => {
      if (req.url?.startsWith('/slow')) {
        held.push(res);
        res.on('close', () => {
          if (!res.writableEnded) closedEarly++;
        });
        return;
      }
      res.end('ok');
    });
    const port = await listenLocal(backend);
    const basic = 'ops:{SHA}GpHWL3ymc5liWkNopqtdSjuqYHM='; // ops:pw
    p = await startPortero(
      {
        http: {
          routers: {
            exact: { rule: 'Host(`exact.test`)', service: 's', middlewares: ['exact'] },
            rate: { rule: 'Host(`rate.test`)', service: 's', middlewares: ['rate'] },
            keyed: { rule: 'Host(`keyed.test`)', service: 's', middlewares: ['keyed'] },
            conns: { rule: 'Host(`conns.test`) || Host(`conns2.test`)', service: 's', middlewares: ['conns'] },
            guarded: { rule: 'Host(`guarded.test`)', service: 's', middlewares: ['one-at-a-time', 'auth'] },
            plain: { rule: 'Host(`plain.test`)', service: 's' },
          },
          services: { s: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${port}` }] } } },
          middlewares: {
            // A token every 6 s: within a test, exactly `burst` pass.
            exact: { rateLimit: { average: 10, period: '1m', burst: 5 } },
            rate: { rateLimit: { average: 10, burst: 5 } },
            keyed: { rateLimit: { average: 1, period: '1m', sourceCriterion: { requestHeaderName: 'X-Client' } } },
            conns: { inFlightReq: { amount: 2 } },
            'one-at-a-time': { inFlightReq: { amount: 1 } },
            auth: { basicAuth: { users: [basic] } },
          },
        },
      },
      { workers: 2 },
    );
  });

  after(async () => {
    for (const res of held) res.end();
    await p.stop();
    backend.close();
  });

  const get = (host: string, path = '/', headers: Record<string, string> = {}) => request(p.webPort, { path, headers: { host, ...headers } });

  test('the limit holds across workers: of 30 requests on 30 connections, burst (5) pass; bystanders and other sources are not held back', async () => {
    const bystanders = await startBystanders(p.webPort, { host: 'plain.test', workers: 2 });
    const replies = await Promise.all(Array.from({ length: 30 }, () => get('exact.test')));
    assert.deepEqual(tally(replies), { 200: 5, 429: 25 }, 'a limit per worker would let 10 through');
    const refused = replies.find((r) => r.status === 429)!;
    assert.equal(refused.body, 'Too Many Requests');
    assert.match(refused.headers['content-type'] ?? '', /^text\/plain/);
    // The next token is ~6 s away.
    assert.ok(Number(refused.headers['retry-after']) >= 5 && Number(refused.headers['retry-after']) <= 6, String(refused.headers['retry-after']));
    assert.match(String(refused.headers['x-retry-in']), /^[56](\.\d+)?s$/);

    assert.equal((await get('keyed.test', '/', { 'x-client': 'alice' })).status, 200);
    assert.equal((await get('keyed.test', '/', { 'x-client': 'alice' })).status, 429);
    assert.equal((await get('keyed.test', '/', { 'x-client': 'bob' })).status, 200, 'another source has its own bucket');
    const report = await bystanders.stop();
    assert.deepEqual(report.failures, []);
    assert.ok(report.requests > 0);
  });

  test('average 10 per second, burst 5: a quick burst gets about 5 through, then tokens come back at the rate', async () => {
    const t0 = performance.now();
    const replies = await Promise.all(Array.from({ length: 20 }, () => get('rate.test')));
    const elapsed = performance.now() - t0;
    const passed = tally(replies)[200] ?? 0;
    // 5 at once, one more per 100 ms the burst lasted, one more served late (up to 50 ms).
    assert.ok(passed >= 5 && passed <= 5 + Math.floor(elapsed / 100) + 1, `${passed} passed in ${elapsed.toFixed(0)} ms`);
    await new Promise((r) => setTimeout(r, 600));
    for (let i = 0; i < 5; i++) assert.equal((await get('rate.test')).status, 200, `request ${i} after the bucket refilled`);
  });

  test('inFlightReq amount 2: the third concurrent request gets 429; slots come back when requests complete and when clients leave', async () => {
    const first = [get('conns.test', '/slow/1'), get('conns.test', '/slow/2')];
    assert.ok(await eventually(() => held.length === 2), 'both reached the backend');
    const third = await get('conns.test');
    assert.equal(third.status, 429);
    assert.equal(third.body, 'max connections reached: 2');
    assert.equal((await get('conns2.test')).status, 200, 'another Host is another source');
    assert.equal((await get('plain.test')).status, 200);

    release('/slow/1');
    assert.equal((await first[0])!.status, 200);
    assert.ok(await eventually(async () => (await get('conns.test')).status === 200), 'the finished request gave its slot back');

    // A client that leaves while its request is at the backend.
    const leaving = http.request({ host: '127.0.0.1', port: p.webPort, path: '/slow/3', headers: { host: 'conns.test' }, agent: false });
    leaving.on('error', () => {});
    leaving.end();
    assert.ok(await eventually(() => held.length === 2));
    assert.equal((await get('conns.test')).status, 429, 'two in flight again');
    leaving.destroy();
    assert.ok(await eventually(() => closedEarly === 1), 'portero gave up the request at the backend');
    assert.ok(await eventually(async () => (await get('conns.test')).status === 200), 'the abandoned request gave its slot back');

    release('/slow/2');
    assert.equal((await first[1])!.status, 200);
    held.splice(0).forEach((res) => res.end());
    const again = [get('conns.test', '/slow/4'), get('conns.test', '/slow/5')];
    assert.ok(await eventually(() => held.length === 2), 'both slots are free once more');
    held.splice(0).forEach((res) => res.end('done'));
    assert.deepEqual((await Promise.all(again)).map((r) => r.status), [200, 200]);
  });

  test('a slot taken before a later middleware answers (basicAuth 401) comes back', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await get('guarded.test')).status, 401, `request ${i}`);
    const auth = `Basic ${Buffer.from('ops:pw').toString('base64')}`;
    for (let i = 0; i < 3; i++) assert.equal((await get('guarded.test', '/', { authorization: auth })).status, 200);
  });
});
