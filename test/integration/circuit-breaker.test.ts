// The circuitBreaker middleware on real sockets: a backend that fails (500s,
// or connections closed unanswered) trips it, portero then answers 503 itself
// without contacting the backend, a bystander router on the same service is
// untouched, and after fallbackDuration and recoveryDuration requests reach
// the healthy backend again.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { DynamicConfig } from '../../src/dynamic/model.js';
import { request, type Reply } from '../helpers/http.js';
import { startPortero, type TestPortero } from '../helpers/portero.js';
import { listenLocal } from '../helpers/streams.js';

type Mode = 'ok' | 'fail' | 'close';

const FALLBACK_MS = 300;
const RECOVERY_MS = 200;

function config(port: number, codesExpression = 'ResponseCodeRatio(500, 600, 0, 600) > 0.5'): DynamicConfig {
  const breaker = (expression: string) => ({ circuitBreaker: { expression, fallbackDuration: `${FALLBACK_MS}ms`, recoveryDuration: `${RECOVERY_MS}ms` } });
  return {
    http: {
      routers: {
        codes: { rule: 'Host(`codes.test`)', service: 's', middlewares: ['on-codes'] },
        net: { rule: 'Host(`net.test`)', service: 's', middlewares: ['on-net'] },
        plain: { rule: 'Host(`plain.test`)', service: 's' },
      },
      services: { s: { loadBalancer: { servers: [{ url: `http://127.0.0.1:${port}` }] } } },
      middlewares: { 'on-codes': breaker(codesExpression), 'on-net': breaker('NetworkErrorRatio() > 0.5') },
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('circuitBreaker through portero', () => {
  let backend: http.Server;
  let port = 0;
  let mode: Mode = 'ok';
  let hits = 0;
  let p: TestPortero;

  before(async () => {
    backend = http.createServer((req, res) => {
      hits++;
      if (mode === 'close') req.socket.destroy();
      else if (mode === 'fail') res.writeHead(500).end('broken');
      else res.end('fine');
    });
    port = await listenLocal(backend);
    // One worker: the breaker's state is per worker, as per Traefik instance.
    p = await startPortero(config(port), { workers: 1 });
  });

  after(async () => {
    await p.stop();
    backend.close();
  });

  const get = (host: string): Promise<Reply> => request(p.webPort, { headers: { host } });

  /**
   * Requests `host` until portero answers 503 itself; the statuses seen
   * before. The expression is evaluated at most every checkPeriod (100 ms),
   * so this can take a few requests more than the ratio needs.
   */
  async function untilTripped(host: string): Promise<number[]> {
    const seen: number[] = [];
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline) {
      const r = await get(host);
      if (r.status === 503) {
        assert.equal(r.body, 'Service Unavailable');
        assert.match(String(r.headers['content-type']), /^text\/plain/);
        return seen;
      }
      seen.push(r.status);
    }
    return assert.fail(`not tripped after ${seen.join(', ')}`);
  }

  /** Requests `host` every 20 ms until one passes; false after `ms`. */
  async function passesWithin(host: string, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if ((await get(host)).status === 200) return true;
      await sleep(20);
    }
    return false;
  }

  async function waitRecovered(host: string): Promise<void> {
    assert.ok(await passesWithin(host, 3000), `${host} passes again`);
    // Past recoveryDuration it stands by: every request passes.
    await sleep(RECOVERY_MS + 50);
    for (let i = 0; i < 5; i++) assert.equal((await get(host)).status, 200);
  }

  test('500s trip it: 503 from portero without contacting the backend; a bystander router is unaffected', async () => {
    mode = 'fail';
    const before = await untilTripped('codes.test');
    assert.ok(before.length >= 1 && before.every((s) => s === 500), `the backend's 500s came first: ${before.join(', ')}`);
    mode = 'ok';
    const hitsTripped = hits;
    for (let i = 0; i < 5; i++) assert.equal((await get('codes.test')).status, 503);
    assert.equal(hits, hitsTripped, 'no request reached the backend while tripped');
    const bystander = await get('plain.test');
    assert.deepEqual([bystander.status, bystander.body], [200, 'fine']);
    assert.equal((await get('net.test')).status, 200, 'the other breaker on the same service stays closed');
    await waitRecovered('codes.test');
  });

  test('connections closed without an answer are network errors: 502, then 503 until it recovers', async () => {
    mode = 'close';
    const before = await untilTripped('net.test');
    assert.ok(before.length >= 1 && before.every((s) => s === 502), `portero's 502s came first: ${before.join(', ')}`);
    mode = 'ok';
    const hitsTripped = hits;
    assert.equal((await get('net.test')).status, 503);
    assert.equal(hits, hitsTripped);
    assert.equal((await get('plain.test')).status, 200);
    const started = Date.now();
    await waitRecovered('net.test');
    assert.ok(Date.now() - started >= FALLBACK_MS - 50, 'not before fallbackDuration');
  });

  test('a bad expression disables the routers using it, naming the problem; the others serve', async () => {
    mode = 'ok';
    p.provider.set(config(port, 'ResponseCodeRatio(500, 600, 0, 600) > 1'));
    const mw = JSON.parse((await request(p.apiPort, { path: '/api/http/middlewares/on-codes@file' })).body) as { status: string; error: string[] };
    assert.equal(mw.status, 'disabled');
    assert.match(mw.error[0]!, /ResponseCodeRatio\(\) is compared with a decimal number \(write 1\.0\)/);
    assert.equal((await get('codes.test')).status, 404);
    assert.equal((await get('net.test')).status, 200);
  });
});
