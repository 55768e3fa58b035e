// When portero's own code throws while handling one request, that request
// alone is cut: its client connection closed, its upstream connection
// destroyed (never pooled), the error counted and reported once. Driven with
// a real pool and backend on loopback and a client response that throws
// where a uWS call could.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { HttpResponse } from 'uWebSockets.js';
import { createStateBuffer, SharedState } from '../../src/shared/shared-state.js';
import { ServerPool } from '../../src/upstream/pool.js';
import { Exchange, type ExchangeContext } from '../../src/worker/exchange.js';
import type { LoadBalancerRuntime } from '../../src/balancer/runtime.js';

/** A stand-in for uWS's response that records calls and throws from the named one. */
function fakeResponse(throwFrom: string) {
  const calls: string[] = [];
  let aborted: (() => void) | null = null;
  const res = new Proxy(
    {},
    {
      get(_t, name: string) {
        return (...args: unknown[]) => {
          calls.push(name);
          if (name === throwFrom) throw new Error(`${name} failed (test)`);
          if (name === 'onAborted') aborted = args[0] as () => void;
          if (name === 'cork') (args[0] as () => void)();
          if (name === 'close') aborted?.();
          if (name === 'tryEnd') return [true, true];
          return res;
        };
      },
    },
  ) as unknown as HttpResponse;
  return { res, calls };
}

async function exchangeWith(throwFrom: string) {
  const backend = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const port = (backend.address() as AddressInfo).port;
  const state = new SharedState(createStateBuffer({ maxServers: 4, maxServices: 4 }), { maxServers: 4, maxServices: 4 });
  const pool = new ServerPool('127.0.0.1', port, null, { maxIdle: 10, maxConns: 0, dialTimeoutMs: 1000, idleTimeoutMs: 60_000, maxHeadBytes: 65536, readTimeoutMs: 0, pipelining: 0, tls: { insecureSkipVerify: false, rootCAs: [] } });
  const service: LoadBalancerRuntime = {
    kind: 'lb',
    name: 's',
    passHostHeader: true,
    rr: 0,
    order: [0],
    sticky: null,
    usesCookies: false,
    servers: [{ url: `http://127.0.0.1:${port}`, slot: 0, pool, pathPrefix: '', authority: pool.authority, passHostHeader: true, service: 0, serviceName: 's', passive: null, stickyCookie: null }],
  };
  const errors: unknown[] = [];
  let finished = 0;
  const ctx: ExchangeContext = {
    state,
    responseHeaderTimeoutMs: 0,
    draining: false,
    observer: null,
    onFinish: () => finished++,
    internalError: (err) => errors.push(err),
  };
  const { res, calls } = fakeResponse(throwFrom);
  const x = new Exchange(ctx, res, [service], null, false, 'GET', 'GET / HTTP/1.1\r\nhost: ', 'a', '\r\n\r\n', -1, 0);
  x.start();
  const deadline = Date.now() + 2000;
  while (finished === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 50));
  backend.close();
  return { errors, finished, calls, pool };
}

test('a throw while writing the response head cuts that request only: client closed, upstream socket destroyed, counted once', async () => {
  const { errors, finished, calls, pool } = await exchangeWith('writeStatus');
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /writeStatus failed/);
  assert.equal(finished, 1, 'the exchange finished exactly once');
  assert.ok(calls.includes('close'), 'the client connection was closed');
  assert.equal(pool.idleCount, 0, 'the upstream socket of a cut exchange is never pooled');
  assert.equal(pool.openCount, 0);
});

test('a throw while writing the response body: the same', async () => {
  const { errors, finished, calls, pool } = await exchangeWith('end');
  assert.equal(errors.length, 1);
  assert.equal(finished, 1);
  assert.ok(calls.includes('close'));
  // The response was read whole before the throw reached the exchange; either way nothing half-used is pooled.
  assert.equal(pool.idleBusyCount, 0);
});
